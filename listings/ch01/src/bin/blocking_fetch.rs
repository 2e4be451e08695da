//! N blocking fetches at latency L take about N x L, and the waiting thread uses almost no CPU.
//!
//!     cargo run --release -p ch01 --bin blocking_fetch -- --fetches 10 --latency-ms 50

use std::io::{self, Read, Write};
use std::{net::SocketAddr, net::TcpStream, process::ExitCode, time::Duration, time::Instant};

use ch01::http::body_if_complete;
use support::timing::{ms, thread_context_switches, thread_cpu_time};
use support::{latency::Config, latency::LatencyServer, report::Table, report::figure};

/// Fetch ticker pages one after another with blocking sockets.
#[derive(clap::Parser)]
pub struct Args {
    /// How many pages to fetch, one after the other.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    fetches: u64,
    /// The simulated API's latency per request, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=5000))]
    latency_ms: u64,
    /// Size of the large responses sent in pieces, in KiB.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(8..=4096))]
    large_kib: u64,
}

// ANCHOR: fetch_ticker
/// Fetches one page over a fresh connection, the way a blocking HTTP client
/// does, and returns the body with the number of `read` calls it took.
fn fetch_ticker(server: SocketAddr, symbol: &str, page: usize) -> io::Result<(Vec<u8>, usize)> {
    // Blocks until the TCP handshake is done.
    let mut stream = TcpStream::connect(server)?;
    let request = format!(
        "GET /ticker/{symbol}?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    // Blocks only if the kernel's send buffer is full; a request never fills it.
    stream.write_all(request.as_bytes())?;
    let (mut response, mut buffer, mut reads) = (Vec::new(), vec![0; 64 * 1024], 0);
    loop {
        if let Some(body) = body_if_complete(&response) {
            return Ok((body.to_vec(), reads));
        }
        reads += 1;
        // Blocks until at least one byte has arrived, then returns what is there.
        match stream.read(&mut buffer)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => response.extend_from_slice(&buffer[..n]),
        }
    }
}
// ANCHOR_END: fetch_ticker

// ANCHOR: fetch_loop
/// Fetches pages one after the other; returns the wall time, CPU time, `read` calls and blocks.
fn fetch_all(server: SocketAddr, fetches: usize) -> (Duration, Duration, usize, u64) {
    // The thread's CPU clock only runs while the thread is on a CPU; the
    // voluntary context switches count how often it gave the CPU up to wait.
    let (start, cpu, switches) = (Instant::now(), thread_cpu_time(), thread_context_switches());
    let mut reads = 0;
    for page in 1..=fetches {
        let (_body, read_calls) = fetch_ticker(server, "ACME", page).expect("fetch a page");
        reads += read_calls;
    }
    let blocks = thread_context_switches().since(switches).voluntary;
    (start.elapsed(), thread_cpu_time() - cpu, reads, blocks)
}
// ANCHOR_END: fetch_loop

pub fn run(args: Args) -> ExitCode {
    let (fetches, latency) = (args.fetches as usize, args.latency_ms as f64);
    let columns = ["responses", "fetches", "wall", "thread CPU", "reads/fetch", "blocks/fetch"];
    let mut table = Table::new(columns);
    let mut row = |label: &str, config: Config, fetches: usize| {
        let server = LatencyServer::start(config).expect("start the server");
        let (wall, cpu, reads, blocks) = fetch_all(server.addr(), fetches);
        let (wall, cpu) = (ms(wall), ms(cpu));
        let [reads, blocks] = [reads as f64, blocks as f64].map(|count| count / fetches as f64);
        table.cells(&format!("{label}|{fetches}|{wall:.0} ms|{cpu:.2} ms|{reads:.1}|{blocks:.1}"));
        (wall, cpu, reads, blocks)
    };
    // ANCHOR: runs
    // Small pages, answered after the latency; large pages all at once (over loopback they arrive
    // together); then in 4 KiB pieces 1 ms apart, as a real network delivers them: each a wait.
    let large = Config::latency(args.latency_ms).with_payload(args.large_kib as usize * 1024);
    let pieces = large.clone().with_chunks(4096, Duration::from_millis(1));
    let (wall, cpu, _, blocks) = row("small", Config::latency(args.latency_ms), fetches);
    let (_, _, reads_at_once, blocks_at_once) = row("large, at once", large, 3);
    let (_, _, reads, blocks_in_pieces) = row("large, in pieces", pieces, 3);
    // ANCHOR_END: runs
    table.print();

    let wall = figure("wall_ms", wall, "ms");
    let expected = figure("expected_ms", fetches as f64 * latency, "ms");
    figure("cpu_ms", cpu, "ms");
    let cpu_share = figure("cpu_share_pct", 100.0 * cpu / wall.value, "%");
    figure("switches", (blocks * fetches as f64).round(), "switches");
    figure("switches_per_fetch", blocks, "");
    let reads = figure("reads_per_response", reads, "");
    figure("switches_per_response", blocks_in_pieces, "");
    figure("reads_per_response_at_once", reads_at_once, "");
    figure("switches_per_response_at_once", blocks_at_once, "");
    let about_n_l = wall.value >= 0.9 * expected.value && wall.value < 2.0 * expected.value + 200.0;
    support::report::verdict(
        "N fetches take about N x L, the thread is off the CPU while it waits, a large response takes many reads",
        about_n_l && cpu_share.value < 20.0 && reads.value > 1.0,
        &format!(
            "{fetches} x {latency:.0} ms: {wall:.0} wall, {cpu_share:.1} of it on the CPU; {reads:.1} reads per large response"
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
