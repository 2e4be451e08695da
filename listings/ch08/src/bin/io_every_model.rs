//! An I/O-bound job on every model: each concurrent one waits about one job's time, not the sum.
//!
//!     cargo run --release -p ch08 --bin io_every_model -- --jobs 10 --requests 4 --latency-ms 100

use std::net::SocketAddr;
use std::process::ExitCode;

use ch08::{threads, ticker, worker};
use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
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
/// The I/O-bound job: fetch `requests` pages one after another, blocking.
fn io_job(addr: SocketAddr, requests: u32) -> usize {
    (1..=requests).map(|page| ticker::fetch(addr, page)).sum()
}

/// The same job for an event loop: the same steps, each awaited.
async fn async_job(addr: SocketAddr, requests: u32) -> usize {
    let mut received = 0;
    for page in 1..=requests {
        received += ticker::fetch_async(addr, page).await;
    }
    received
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
    let (addr, jobs, requests) = (server.addr(), args.jobs, args.requests);

    // ANCHOR: models
    let sequential = || (0..jobs).map(|_| io_job(addr, requests)).sum();
    let threads = || threads::each(jobs, |_| io_job(addr, requests));
    let processes = || {
        // A worker process is this listing again, with `--worker`: it runs one job.
        let args = [format!("--worker={addr}"), format!("--requests={requests}")];
        let workers: Vec<_> = (0..jobs).map(|_| worker::start("io_every_model", &args)).collect();
        workers.into_iter().map(worker::answer::<usize>).sum()
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

fn main() -> ExitCode {
    run(support::cli::parse())
}
