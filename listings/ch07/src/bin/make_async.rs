//! spawn_blocking frees the loop from a blocking call, at a thread per call, up to the pool's 512.
//!
//!     cargo run --release -p ch07 --bin make_async -- --fetches 20 --many 1000

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::thread::ThreadId;

use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
use support::timing::ms;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Fetch quotes with a blocking client: directly, wrapped, and compared with an async client.
#[derive(clap::Parser)]
pub struct Args {
    /// How many fetches for the direct and the wrapped calls.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    fetches: u64,
    /// How many fetches at once to show the pool's ceiling (more than 512).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=5000))]
    many: u64,
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(10..=1000))]
    latency_ms: u64,
}

// ANCHOR: make_async
/// Turns a blocking call into a future, as a Python `make_async` decorator
/// wraps a function in `run_in_executor`. The closure replaces
/// `functools.partial`: it captures the arguments, keyword or not. Like
/// `run_in_executor`, it starts the call at once, on tokio's blocking pool.
fn make_async<F, T>(blocking: F) -> impl Future<Output = T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let call = tokio::task::spawn_blocking(blocking);
    async move {
        match call.await {
            Ok(value) => value,
            Err(error) => std::panic::resume_unwind(error.into_panic()), // The call's panic, passed on.
        }
    }
}
// ANCHOR_END: make_async

// ANCHOR: clients
const REQUEST: &[u8] =
    b"GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n";

/// A blocking client, as a sync-only library would offer it. Each fetch
/// answers with its response's length and the thread that ran it.
fn fetch_quote_blocking(server: SocketAddr) -> (usize, ThreadId) {
    let mut stream = TcpStream::connect(server).expect("connect");
    stream.write_all(REQUEST).expect("send the request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read the response");
    (response.len(), std::thread::current().id())
}

/// The same fetch with tokio's sockets.
async fn fetch_quote(server: SocketAddr) -> (usize, ThreadId) {
    let mut stream = tokio::net::TcpStream::connect(server).await.expect("connect");
    stream.write_all(REQUEST).await.expect("send the request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read the response");
    (response.len(), std::thread::current().id())
}
// ANCHOR_END: clients

// ANCHOR: calls
/// Runs `fetches` fetches as concurrent tasks on a current-thread runtime (asyncio's
/// one loop); returns the wall time and how many threads ran a fetch.
fn fetch_all(way: &str, fetches: u64, server: SocketAddr) -> (f64, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    runtime.expect("a runtime").block_on(async {
        let started = std::time::Instant::now(); // measuring
        let tasks: Vec<_> = (0..fetches)
            .map(|_| match way {
                "direct" => tokio::spawn(async move { fetch_quote_blocking(server) }),
                "wrapped" => tokio::spawn(make_async(move || fetch_quote_blocking(server))),
                "async" => tokio::spawn(fetch_quote(server)),
                other => unreachable!("no way named {other}"),
            })
            .collect();
        let mut threads = std::collections::HashSet::new();
        for task in tasks {
            let (bytes, thread) = task.await.expect("the fetch ends");
            assert!(bytes > 0, "a response arrived");
            threads.insert(thread);
        }
        let wall_ms = ms(started.elapsed()); // measuring
        (wall_ms, threads.len())
    })
}
// ANCHOR_END: calls

pub fn run(args: Args) -> ExitCode {
    support::latency::raise_fd_limit();
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the server");
    let mut table = Table::new(["fetches", "how", "wall", "latencies", "threads"]);
    let latency = args.latency_ms as f64;
    let [(direct, _), (wrapped, _), (many, many_threads), (async_many, async_threads)] = [
        ("direct", args.fetches, "blocking call inside async tasks", "direct"),
        ("wrapped", args.fetches, "make_async(blocking call)", "wrapped"),
        ("wrapped", args.many, "make_async(blocking call)", "wrapped_many"),
        ("async", args.many, "async client", "async_many"),
    ]
    .map(|(way, fetches, label, name)| {
        let (wall, threads) = fetch_all(way, fetches, server.addr());
        let wall = figure(&format!("{name}_ms"), wall, "ms");
        let threads = figure(&format!("{name}_threads"), threads as f64, "");
        table.cells(&format!("{fetches}|{label}|{wall:.0}|{:.1}|{threads}", wall.value / latency));
        (wall, threads)
    });
    table.print();
    println!("(latency {latency} ms; tokio's blocking pool holds at most 512 threads by default)");
    drop(server);

    let rounds = args.many.div_ceil(512) as f64;
    let frees = direct.value >= 0.9 * args.fetches as f64 * latency
        && wrapped.value < 0.5 * direct.value.max(latency * 2.0);
    let queues =
        many_threads.value as u64 <= 512.min(args.many) && many.value >= 0.9 * rounds * latency;
    verdict(
        "make_async frees the loop; past 512 calls in flight they queue for a thread; an async client needs none",
        frees && queues && async_threads.value == 1.0,
        &format!(
            "{} direct: {direct:.0}, wrapped: {wrapped:.0}; {} wrapped: {many:.0} on {many_threads} threads, async: {async_many:.0} on {async_threads}",
            args.fetches, args.many
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
