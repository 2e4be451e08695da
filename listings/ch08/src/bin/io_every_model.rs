//! An I/O-bound job on every model: each concurrent one waits about one job's time, not the sum.
//!
//!     cargo run --release -p ch08 --bin io_every_model -- --jobs 10 --requests 4 --latency-ms 100

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{ExitCode, Stdio};

use support::child::Reaped;
use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

/// Fetch a few pages from the loopback API, `jobs` times, on each model in turn.
#[derive(clap::Parser)]
pub struct Args {
    /// How many times the job runs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// Each job fetches this many pages, one after another.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    requests: u32,
    /// The simulated API answers each request after this many milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    latency_ms: u64,
    /// Run as a worker process: one job against this server, bytes read on stdout.
    #[arg(long, hide = true)]
    worker: Option<SocketAddr>,
}

// ANCHOR: job
/// The request for one page; `Connection: close` makes the end of the
/// response the end of the stream.
fn request(page: u32) -> String {
    format!("GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

/// The I/O-bound job: fetch `requests` pages one after another, blocking.
/// It returns the bytes received, so every model can be checked.
fn io_job(addr: SocketAddr, requests: u32) -> usize {
    let mut received = Vec::new();
    for page in 1..=requests {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(request(page).as_bytes()).expect("send");
        stream.read_to_end(&mut received).expect("receive");
    }
    received.len()
}

/// The same job for an event loop: the same steps, each awaited.
async fn async_job(addr: SocketAddr, requests: u32) -> usize {
    let mut received = Vec::new();
    for page in 1..=requests {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request(page).as_bytes()).await.expect("send");
        stream.read_to_end(&mut received).await.expect("receive");
    }
    received.len()
}
// ANCHOR_END: job

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: worker_side
    // The worker's side: one job against the parent's server, the bytes it received printed.
    if let Some(addr) = args.worker {
        println!("{}", io_job(addr, args.requests));
        return ExitCode::SUCCESS;
    }
    // ANCHOR_END: worker_side
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the API");
    let (addr, jobs, requests) = (server.addr(), args.jobs as usize, args.requests);

    // ANCHOR: models
    let sequential = || (0..jobs).map(|_| io_job(addr, requests)).sum();
    let threads = || {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..jobs).map(|_| s.spawn(|| io_job(addr, requests))).collect();
            handles.into_iter().map(|h| h.join().expect("a job")).sum()
        })
    };
    let processes = || {
        let workers: Vec<Reaped> = (0..jobs).map(|_| start_worker(addr, requests)).collect();
        workers.into_iter().map(answer).sum()
    };
    // Like asyncio's, this event loop runs on one thread. Collecting the jobs' futures into a
    // JoinSet spawns each one as a task on it.
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let tasks = || {
        runtime.block_on(async {
            let spawned: JoinSet<usize> = (0..jobs).map(|_| async_job(addr, requests)).collect();
            spawned.join_all().await.into_iter().sum()
        })
    };
    // ANCHOR_END: models

    let models: [(&str, &str, &dyn Fn() -> usize); 4] = [
        ("sequential", "one after another", &sequential),
        ("threads", "one thread per job", &threads),
        ("processes", "one process per job", &processes),
        ("async", "tokio tasks, one thread", &tasks),
    ];
    let one_job = figure("one_job_s", requests as f64 * args.latency_ms as f64 / 1e3, "s");
    let mut table = Table::new(["model", "how", "wall (s)", "in one job's waits"]);
    let (mut walls, mut received) = (Vec::new(), Vec::new());
    for (name, how, model) in models {
        let (bytes, took) = support::timing::time(model);
        let wall = figure(&format!("{name}_s"), took.as_secs_f64(), "s");
        table.cells(&format!("{name}|{how}|{wall:#.2}|{:.1}", wall.value / one_job.value));
        walls.push(wall.value);
        received.push(bytes);
    }
    table.print();
    let latency_ms = args.latency_ms;
    println!("{jobs} jobs of {requests} requests at {latency_ms} ms: one job waits {one_job:.1}");

    // Sequential waits every job's time in turn; each concurrent model
    // overlaps the jobs, so it must be several times faster (ideally `jobs`).
    let speedups: Vec<f64> = walls[1..].iter().map(|w| walls[0] / w).collect();
    verdict(
        "every concurrent model takes about one job's wait, the sequential one the sum",
        received.iter().all(|r| *r == received[0])
            && walls[0] >= 0.9 * jobs as f64 * one_job.value
            && speedups.iter().all(|s| *s >= 0.4 * jobs as f64),
        &format!("speed-ups over sequential: {speedups:.1?}"),
    )
}

// ANCHOR: worker
/// Starts this program again as a worker for one job (support::child has the convention).
fn start_worker(addr: SocketAddr, requests: u32) -> Reaped {
    let mut command = support::child::command("io_every_model");
    command.args(["--worker", &addr.to_string(), "--requests", &requests.to_string()]);
    Reaped(command.stdout(Stdio::piped()).spawn().expect("start a worker process"))
}

/// A worker's answer: the number it prints before it exits, read from the pipe to its end.
fn answer(mut worker: Reaped) -> usize {
    serde_json::from_reader(worker.0.stdout.take().expect("piped")).expect("a worker's bytes")
}
// ANCHOR_END: worker

fn main() -> ExitCode {
    run(support::cli::parse())
}
