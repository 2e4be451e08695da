//! gather, as_completed, wait_for: join_all keeps order, JoinSet yields as done, select! the first.
//!
//!     cargo run --release -p ch06 --bin gather_and_race -- --unit-ms 50

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use futures::stream::FuturesUnordered;
use support::latency::{Config, LatencyServer};
use support::report::{figure, verdict};
use support::timing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Fetch three tickers with different latencies, four ways.
#[derive(clap::Parser)]
pub struct Args {
    /// The latencies are 3, 1 and 2 units (ACME, INIT, GLOBEX), in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(20..=1_000))]
    unit_ms: u64,
}

// ANCHOR: fetch
/// One HTTP/1.1 GET over a raw socket; returns the symbol once the whole
/// response is in (the server closes the connection after it).
async fn fetch(server: SocketAddr, symbol: &'static str, latency_ms: u64) -> &'static str {
    let mut stream = TcpStream::connect(server).await.expect("connect");
    let request = format!(
        "GET /ticker/{symbol}?page=1&latency_ms={latency_ms} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("receive");
    assert!(response.starts_with(b"HTTP/1.1 200 OK"));
    symbol
}
// ANCHOR_END: fetch

pub fn run(args: Args) -> ExitCode {
    let server = LatencyServer::start(Config::latency(args.unit_ms)).expect("start the server");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let (addr, unit) = (server.addr(), args.unit_ms);
    let mut lines = Vec::new();
    runtime.expect("build the runtime").block_on(async {
        // ANCHOR: four_ways
        let tickers = [("ACME", 3 * unit), ("INIT", unit), ("GLOBEX", 2 * unit)];

        // gather: all at once, results in the order asked, after the slowest.
        let begun = Instant::now();
        let gathered = join_all(tickers.map(|(symbol, ms)| fetch(addr, symbol, ms))).await;
        lines.push(("join_all (gather)", gathered.join(" "), begun.elapsed()));

        // as_completed: the same futures, each result as soon as it is in.
        let mut pending: FuturesUnordered<_> =
            tickers.iter().map(|&(symbol, ms)| fetch(addr, symbol, ms)).collect();
        let (mut order, begun) = (Vec::new(), Instant::now());
        while let Some(symbol) = pending.next().await {
            order.push(symbol);
        }
        lines.push(("FuturesUnordered (as_completed)", order.join(" "), begun.elapsed()));

        // Spawned tasks, collected as they finish: tokio's JoinSet.
        let (mut set, begun) = (tokio::task::JoinSet::new(), Instant::now());
        for (symbol, ms) in tickers {
            set.spawn(fetch(addr, symbol, ms));
        }
        let mut order = Vec::new();
        while let Some(done) = set.join_next().await {
            order.push(done.expect("the task finished"));
        }
        lines.push(("JoinSet::join_next (tasks)", order.join(" "), begun.elapsed()));

        // wait_for / wait(FIRST_COMPLETED): the first to finish wins, the
        // other future is dropped on the spot.
        let begun = Instant::now();
        let winner = tokio::select! {
            symbol = fetch(addr, "ACME", 3 * unit) => symbol,
            _ = tokio::time::sleep(Duration::from_millis(2 * unit)) => "timeout",
        };
        lines.push(("select! (fetch vs timer)", winner.to_string(), begun.elapsed()));
        // ANCHOR_END: four_ways
    });
    println!("latencies: ACME {} ms, INIT {unit} ms, GLOBEX {} ms", 3 * unit, 2 * unit);
    for (way, result, wall) in &lines {
        let units = timing::ms(*wall) / unit as f64;
        println!("{way:<32} {result:<18} after {units:.1} units");
    }
    let expected = ["ACME INIT GLOBEX", "INIT GLOBEX ACME", "INIT GLOBEX ACME", "timeout"];
    let orders_hold = lines.iter().zip(expected).all(|((_, got, _), want)| got == want);
    let gather = figure("gather_ms", timing::ms(lines[0].2), "ms");
    figure("as_completed_ms", timing::ms(lines[1].2), "ms");
    figure("select_ms", timing::ms(lines[3].2), "ms");
    let (longest, sum) = (3 * unit, 6 * unit);
    verdict(
        "gather keeps argument order, as_completed yields fastest first, select! keeps the first",
        orders_hold && gather.value < 1.5 * longest as f64,
        &format!("gather took {gather:.0} for a slowest fetch of {longest} ms; sum {sum} ms"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
