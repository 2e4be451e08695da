//! N blocking fetches at latency L take about N x L, and the waiting thread uses almost no CPU.
//!
//!     cargo run --release -p ch01 --bin blocking_fetch -- --fetches 10 --latency-ms 50

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use support::latency::{Config, LatencyServer};
use support::report::{Table, metric, verdict};
use support::timing::{thread_context_switches, thread_cpu_time};

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

pub fn run(args: Args) -> ExitCode {
    let fetches = args.fetches as usize;
    let latency = args.latency_ms as f64;

    // Part 1: small pages, each answered after the latency.
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the server");
    let small = measure(server.addr(), fetches);
    drop(server);

    // Part 2: large pages sent all at once: over loopback they arrive together.
    let large = Config::latency(args.latency_ms).with_payload(args.large_kib as usize * 1024);
    let server = LatencyServer::start(large.clone()).expect("start the server");
    let whole = measure(server.addr(), 3);
    drop(server);

    // Part 3: the same pages in 4 KiB pieces 1 ms apart, the way a real
    // network delivers packets: unevenly. Each piece is another wait.
    let pieces = large.with_chunks(4096, Duration::from_millis(1));
    let server = LatencyServer::start(pieces).expect("start the server");
    let large = measure(server.addr(), 3);
    drop(server);

    let mut table =
        Table::new(["responses", "fetches", "wall", "thread CPU", "reads/fetch", "blocks/fetch"]);
    let rows = [("small", &small), ("large, at once", &whole), ("large, in pieces", &large)];
    for (label, m) in rows {
        table.row([
            label.to_string(),
            m.fetches.to_string(),
            format!("{:.0} ms", m.wall_ms),
            format!("{:.2} ms", m.cpu_ms),
            format!("{:.1}", m.reads as f64 / m.fetches as f64),
            format!("{:.1}", m.blocks as f64 / m.fetches as f64),
        ]);
    }
    table.print();

    let expected_ms = fetches as f64 * latency;
    let cpu_share = 100.0 * small.cpu_ms / small.wall_ms;
    let reads_per_response = large.reads as f64 / large.fetches as f64;
    metric("wall_ms", small.wall_ms, "ms");
    metric("expected_ms", expected_ms, "ms");
    metric("cpu_ms", small.cpu_ms, "ms");
    metric("cpu_share_pct", cpu_share, "%");
    metric("switches", small.blocks as f64, "switches");
    metric("switches_per_fetch", small.blocks as f64 / fetches as f64, "");
    metric("reads_per_response", reads_per_response, "");
    let reads_whole = whole.reads as f64 / whole.fetches as f64;
    metric("reads_per_response_at_once", reads_whole, "");
    let blocks_whole = whole.blocks as f64 / whole.fetches as f64;
    metric("switches_per_response_at_once", blocks_whole, "");
    metric("switches_per_response", large.blocks as f64 / large.fetches as f64, "");

    let holds = small.wall_ms >= 0.9 * expected_ms
        && small.wall_ms < 2.0 * expected_ms + 200.0
        && cpu_share < 20.0
        && reads_per_response > 1.0;
    verdict(
        "N fetches take about N x L, the thread is off the CPU while it waits, a large response takes many reads",
        holds,
        &format!(
            "{fetches} x {latency:.0} ms: {:.0} ms wall, {cpu_share:.1}% of it on the CPU; {reads_per_response:.1} reads per large response",
            small.wall_ms
        ),
    )
}

struct Measured {
    fetches: usize,
    wall_ms: f64,
    cpu_ms: f64,
    reads: usize,
    blocks: u64,
}

fn measure(server: SocketAddr, fetches: usize) -> Measured {
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
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
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
// ANCHOR_END: fetch_ticker

/// The body, once the headers and all `Content-Length` bytes have arrived.
fn body_if_complete(response: &[u8]) -> Option<&[u8]> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let headers = std::str::from_utf8(&response[..end]).ok()?.to_ascii_lowercase();
    let length = headers.split("content-length:").nth(1)?.lines().next()?;
    response.get(end..end + length.trim().parse::<usize>().ok()?)
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
