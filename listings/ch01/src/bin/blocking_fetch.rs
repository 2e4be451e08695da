//! N blocking fetches at latency L take about N x L, and the waiting thread uses almost no CPU.
//!
//!     cargo run --release -p ch01 --bin blocking_fetch -- --fetches 10 --latency-ms 50

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
use support::timing::{ms, thread_context_switches, thread_cpu_time};

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

/// What one series of fetches cost: its clocks, and its calls to `read`.
struct Measured {
    fetches: usize,
    wall_ms: f64,
    cpu_ms: f64,
    reads: usize,
    blocks: u64,
}

fn fetch_all(server: SocketAddr, fetches: usize) -> Measured {
    // ANCHOR: fetch_loop
    // The thread's CPU clock only runs while the thread is on a CPU; the
    // voluntary context switches count how often it gave the CPU up to wait.
    let (start, cpu, switches) = (Instant::now(), thread_cpu_time(), thread_context_switches());
    let mut reads = 0;
    for page in 1..=fetches {
        let (_body, read_calls) = fetch_ticker(server, "ACME", page).expect("fetch a page");
        reads += read_calls;
    }
    let wall = start.elapsed();
    let cpu = thread_cpu_time() - cpu;
    let blocks = thread_context_switches().since(switches).voluntary;
    // ANCHOR_END: fetch_loop
    Measured { fetches, wall_ms: ms(wall), cpu_ms: ms(cpu), reads, blocks }
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
        // Blocks until at least one byte has arrived, then returns what is there.
        let n = stream.read(&mut buffer)?;
        reads += 1;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        response.extend_from_slice(&buffer[..n]);
        if let Some(body) = body_if_complete(&response) {
            return Ok((body.to_vec(), reads));
        }
    }
}

/// The body, once the headers and all `Content-Length` bytes have arrived.
fn body_if_complete(response: &[u8]) -> Option<&[u8]> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let headers = std::str::from_utf8(&response[..end]).ok()?.to_ascii_lowercase();
    let length = headers.split("content-length:").nth(1)?.lines().next()?;
    response.get(end..end + length.trim().parse::<usize>().ok()?)
}
// ANCHOR_END: fetch_ticker

pub fn run(args: Args) -> ExitCode {
    let (fetches, latency) = (args.fetches as usize, args.latency_ms as f64);
    let large = Config::latency(args.latency_ms).with_payload(args.large_kib as usize * 1024);
    // Small pages, each answered after the latency; large pages sent all at once (over loopback
    // they arrive together); then the same in 4 KiB pieces 1 ms apart, the way a real network
    // delivers packets: unevenly. Each piece is another wait.
    let pieces = large.clone().with_chunks(4096, Duration::from_millis(1));
    let runs = [(Config::latency(args.latency_ms), fetches), (large, 3), (pieces, 3)];
    let [small, whole, large] = runs.map(|(config, fetches)| {
        let server = LatencyServer::start(config).expect("start the server");
        fetch_all(server.addr(), fetches)
    });
    let per = |m: &Measured, count: f64| count / m.fetches as f64;
    let columns = ["responses", "fetches", "wall", "thread CPU", "reads/fetch", "blocks/fetch"];
    let mut table = Table::new(columns);
    for (label, m) in [("small", &small), ("large, at once", &whole), ("large, in pieces", &large)]
    {
        let (wall, cpu, fetches) = (m.wall_ms, m.cpu_ms, m.fetches);
        let (reads, blocks) = (per(m, m.reads as f64), per(m, m.blocks as f64));
        table.cells(&format!("{label}|{fetches}|{wall:.0} ms|{cpu:.2} ms|{reads:.1}|{blocks:.1}"));
    }
    table.print();

    let wall = figure("wall_ms", small.wall_ms, "ms");
    let expected = figure("expected_ms", fetches as f64 * latency, "ms");
    figure("cpu_ms", small.cpu_ms, "ms");
    let cpu_share = figure("cpu_share_pct", 100.0 * small.cpu_ms / small.wall_ms, "%");
    figure("switches", small.blocks as f64, "switches");
    figure("switches_per_fetch", per(&small, small.blocks as f64), "");
    let reads = figure("reads_per_response", per(&large, large.reads as f64), "");
    figure("switches_per_response", per(&large, large.blocks as f64), "");
    figure("reads_per_response_at_once", per(&whole, whole.reads as f64), "");
    figure("switches_per_response_at_once", per(&whole, whole.blocks as f64), "");
    let about_n_l = wall.value >= 0.9 * expected.value && wall.value < 2.0 * expected.value + 200.0;
    verdict(
        "N fetches take about N x L, the thread is off the CPU while it waits, a large response takes many reads",
        about_n_l && cpu_share.value < 20.0 && reads.value > 1.0,
        &format!(
            "{fetches} x {latency:.0} ms: {wall:.0} wall, {cpu_share:.1} of it on the CPU; {reads:.1} reads per large response"
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
