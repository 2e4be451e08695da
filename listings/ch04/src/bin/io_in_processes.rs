//! I/O-bound work overlaps in threads and in processes alike; processes add their start-up.
//!
//!     cargo run --release -p ch04 --bin io_in_processes -- --fetches 10 --latency-ms 100

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::RangeInclusive;
use std::process::{ExitCode, Stdio};

use support::child::Reaped;
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
    let workers: Vec<Reaped> = pages.map(|page| start_worker(server, page)).collect();
    workers.into_iter().map(answer).sum()
}
// ANCHOR_END: three_ways

// ANCHOR: worker
/// Starts this program again as a worker and sends it where to fetch, the server's address
/// and the page, as JSON. The page's size comes back the same way.
fn start_worker(server: SocketAddr, page: u64) -> Reaped {
    let mut command = support::child::command("io_in_processes");
    command.arg("--worker").stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut worker = Reaped(command.spawn().expect("start a worker process"));
    // `to_writer` takes stdin and drops it: the pipe closes, the worker reads to its end.
    let stdin = worker.0.stdin.take().expect("piped");
    serde_json::to_writer(stdin, &(server, page)).expect("send the fetch");
    worker
}

/// The worker's side: one fetch in, with the same blocking call a thread makes; its size out.
fn worker() -> ExitCode {
    let (server, page) = serde_json::from_reader(std::io::stdin()).expect("a well-formed job");
    let bytes = fetch_page(server, page);
    serde_json::to_writer(std::io::stdout(), &bytes).expect("send the answer");
    ExitCode::SUCCESS
}

/// The parent's side again: read the answer to its end, then reap the worker.
fn answer(mut worker: Reaped) -> usize {
    let bytes = serde_json::from_reader(worker.0.stdout.take().expect("piped"));
    let status = worker.0.wait().expect("wait for the worker");
    assert!(status.success(), "the worker failed: {status}");
    bytes.expect("a well-formed answer")
}
// ANCHOR_END: worker

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        return worker();
    }
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
