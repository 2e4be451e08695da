//! I/O-bound work overlaps in threads and in processes alike; processes add their start-up.
//!
//!     cargo run --release -p ch04 --bin io_in_processes -- --fetches 10 --latency-ms 100

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::RangeInclusive;
use std::process::ExitCode;

use ch04::worker;
use support::latency::{Config, LatencyServer};
use support::report::{Figure, Table, figure, verdict};
use support::timing::{ms, time};

/// Fetch pages from a slow loopback API one after another, in threads, and in processes.
#[derive(clap::Parser)]
pub struct Args {
    /// How many pages, each fetched by its own thread or its own process.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=64))]
    fetches: u64,
    /// The simulated API's latency per request, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
    /// Repetitions of the threads and the processes, taking turns; the table shows the best.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=20))]
    repeats: u64,
    /// Run as a worker process: read one fetch from stdin, answer on stdout.
    #[arg(long, hide = true)]
    worker: bool,
}

// ANCHOR: three_ways
/// Fetches one page over a fresh connection, blocking, and returns its size.
fn fetch_page(server: SocketAddr, page: u64) -> usize {
    let mut stream = TcpStream::connect(server).expect("connect");
    let request = format!(
        "GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read the response");
    response.len()
}

fn one_after_another(server: SocketAddr, pages: RangeInclusive<u64>) -> usize {
    pages.map(|page| fetch_page(server, page)).sum()
}

fn in_threads(server: SocketAddr, pages: RangeInclusive<u64>) -> usize {
    std::thread::scope(|s| {
        let handles: Vec<_> = pages.map(|page| s.spawn(move || fetch_page(server, page))).collect();
        handles.into_iter().map(|h| h.join().expect("a fetch")).sum()
    })
}

fn in_processes(server: SocketAddr, pages: RangeInclusive<u64>) -> usize {
    let workers: Vec<_> =
        pages.map(|page| worker::start("io_in_processes", &(server, page))).collect();
    workers.into_iter().map(worker::answer::<usize>).sum()
}
// ANCHOR_END: three_ways

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: worker
    if args.worker {
        // This process is a worker: where to fetch in, the page's size out.
        return worker::serve(|(server, page)| fetch_page(server, page));
    }
    // ANCHOR_END: worker
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the server");
    let (addr, pages) = (server.addr(), 1..=args.fetches);
    let (bytes, sequential) = time(|| one_after_another(addr, pages.clone()));
    // Threads and processes take turns, so a busy moment hits both; the table shows the best.
    let ways: [fn(SocketAddr, RangeInclusive<u64>) -> usize; 2] = [in_threads, in_processes];
    let mut best = [f64::MAX; 2];
    for way in (0..args.repeats).flat_map(|_| 0..2) {
        let (got, wall) = time(|| ways[way](addr, pages.clone()));
        assert_eq!(got, bytes, "every page was fetched");
        best[way] = best[way].min(ms(wall));
    }
    drop(server);
    let (latency, n) = (args.latency_ms as f64, args.fetches);
    let mut table = Table::new(["way", "wall (best)", "in latencies"]);
    let mut row = |way: String, name, wall_ms| {
        let wall = figure(name, wall_ms, "ms");
        table.cells(&format!("{way}|{wall:.0}|{:.2}", wall.value / latency));
        wall
    };
    let sequential = row("one after another".into(), "sequential_ms", ms(sequential));
    let threads = row(format!("{n} threads"), "threads_ms", best[0]);
    let processes = row(format!("{n} processes"), "processes_ms", best[1]);
    table.print();
    figure("process_extra_ms", processes.value - threads.value, "ms");
    println!("{n} pages of {bytes} bytes in all, {latency:.0} ms of latency each");
    // Both overlap the waits: far below the sum of the latencies. Processes
    // pay their start-up on top, so even their best run is the slower.
    let overlapped = |wall: Figure| wall.value < 0.5 * sequential.value;
    let held = overlapped(threads) && overlapped(processes) && processes.value > threads.value;
    let claim =
        "I/O-bound work overlaps in threads and in processes; processes are slightly slower";
    let ways = format!("{threads:.0} in threads, {processes:.0} in processes");
    verdict(claim, held, &format!("{sequential:.0} one after another, {ways}"))
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
