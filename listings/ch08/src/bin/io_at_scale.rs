//! 40 slow requests take one latency on every model; at 10,000 a pool queues, threads cost memory.
//!
//!     cargo run --release -p ch08 --bin io_at_scale -- --sizes 40,1000,10000 --latency-ms 200

use std::process::ExitCode;

use ch08::ticker::{fetch, fetch_async};
use ch08::{threads, worker};
use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, series, verdict};

/// Send N requests at once to a slow loopback API, on each model, each model in a process of its own.
#[derive(clap::Parser)]
pub struct Args {
    /// How many concurrent requests; every model runs once per size.
    #[arg(long, value_delimiter = ',', default_values_t = [40, 1_000, 10_000],
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    sizes: Vec<u32>,
    /// The simulated API answers each request after this many milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=2_000))]
    latency_ms: u64,
    /// The bounded pool's threads (512, like tokio's blocking pool).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=4_096))]
    pool: u32,
    /// Run as a child: one model, as a JSON `Spec`; print a JSON `Report`.
    #[arg(long, hide = true)]
    child: Option<String>,
}

// ANCHOR: models
/// Sends `size` requests at once on `model`; returns the bytes received and
/// the peak memory of its helper processes, if any.
fn run_model(Spec { model, size, pool, addr }: Spec) -> (usize, f64) {
    match model.as_str() {
        // One OS thread per request, each blocked in its own read.
        "threads" => (threads::each(size, |page| fetch(addr, page)), 0.0),
        // A bounded pool: each of `pool` threads takes the next request, until none is left.
        "pool" => {
            let pages = std::sync::Mutex::new(0..size);
            let next = || pages.lock().unwrap().next();
            let take_requests = |_| std::iter::from_fn(next).map(|p| fetch(addr, p)).sum();
            (threads::each(pool.min(size), take_requests), 0.0)
        }
        // One task per request, on tokio's default (multi-threaded) runtime.
        "async" => tokio::runtime::Runtime::new().unwrap().block_on(async {
            // Collecting the futures into a JoinSet spawns each one as a task.
            let tasks: tokio::task::JoinSet<usize> =
                (0..size).map(|p| fetch_async(addr, p)).collect();
            (tasks.join_all().await.into_iter().sum(), 0.0)
        }),
        // One process per request; each reports its own peak memory.
        "processes" => {
            let one = |page| start_child(Spec { model: "one".into(), size: page, pool, addr });
            let children: Vec<_> = (0..size).map(one).collect();
            let reports = children.into_iter().map(worker::answer::<Report>);
            reports.fold((0, 0.0), |(bytes, mib), r| (bytes + r.received, mib + r.peak_mib))
        }
        _ => (fetch(addr, size), 0.0), // "one": a child of "processes".
    }
}
// ANCHOR_END: models

// ANCHOR: child
/// What a child is told to run, and what it prints back: one JSON line each.
#[derive(serde::Serialize, serde::Deserialize)]
struct Spec {
    model: String,
    size: u32,
    pool: u32,
    addr: std::net::SocketAddr,
}
#[derive(serde::Serialize, serde::Deserialize)]
struct Report {
    wall_s: f64,
    peak_mib: f64,
    received: usize,
}

/// Starts this program again as a child that runs one model.
fn start_child(spec: Spec) -> support::child::Reaped {
    let spec = serde_json::to_string(&spec).expect("a spec");
    worker::start("io_at_scale", &["--child".into(), spec])
}

/// The child's side: run one model, then report its wall time and its peak memory.
fn child(spec: &str) -> ExitCode {
    support::latency::raise_fd_limit(); // Every connection is a file descriptor.
    let spec = serde_json::from_str(spec).expect("a child's spec");
    let ((received, helpers_mib), took) = support::timing::time(|| run_model(spec));
    // VmHWM: the most this process has had resident since it started.
    let peak_mib = support::timing::peak_rss_bytes() as f64 / (1 << 20) as f64 + helpers_mib;
    let report = Report { wall_s: took.as_secs_f64(), peak_mib, received };
    println!("{}", serde_json::to_string(&report).expect("a report"));
    ExitCode::SUCCESS
}
// ANCHOR_END: child

pub fn run(args: Args) -> ExitCode {
    if let Some(spec) = &args.child {
        return child(spec);
    }
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the API");
    let (addr, pool, latency) = (server.addr(), args.pool, args.latency_ms as f64 / 1e3);
    let mut table = Table::new(["model", "requests", "wall (s)", "latencies", "peak memory"]);
    let mut runs = std::collections::HashMap::new();
    for model in ["threads", "pool", "processes", "async"] {
        let (mut walls, mut memory) = (Vec::new(), Vec::new());
        // Processes stop at 100: 10,000 would cost seconds and gigabytes, as chapter 4 measures.
        for &size in args.sizes.iter().filter(|&&n| model != "processes" || n <= 100) {
            // A fresh process per model and size, so the peak memory is its own.
            let r: Report =
                worker::answer(start_child(Spec { model: model.into(), size, pool, addr }));
            let wall = figure(&format!("{model}_{size}_s"), r.wall_s, "s");
            let peak = figure(&format!("{model}_{size}_mib"), r.peak_mib, "MiB");
            table.cells(&format!("{model}|{size}|{wall:#.2}|{:.2}|{peak:.1}", r.wall_s / latency));
            walls.push((size as f64, r.wall_s));
            memory.push((size as f64, r.peak_mib));
            runs.insert((model, size), (wall, peak, r.received));
        }
        series(&format!("{model}_wall"), "concurrent requests", "s", &walls);
        series(&format!("{model}_memory"), "concurrent requests", "MiB", &memory);
    }
    table.print();

    // At the smallest size every model overlaps its requests: far less than one latency after
    // another. At the largest, the pool needs a latency per round of `pool` requests and tasks
    // do not queue, so with 5 rounds or more they finish clearly first (both pay the same
    // per-connection work of the kernel); a thread per request holds over twice a task's memory.
    let (small, large) = (*args.sizes.iter().min().unwrap(), *args.sizes.iter().max().unwrap());
    let [(pooled, ..), (tasks, tasks_mib, _), (_, threads_mib, _)] =
        ["pool", "async", "threads"].map(|m| runs[&(m, large)]);
    let rounds = large.div_ceil(pool) as f64;
    let overlapped = runs.iter().all(|(&(_, size), &(wall, _, received))| {
        received > 0 && (size != small || wall.value < (1.0 + small as f64 / 4.0) * latency)
    });
    let queued = pooled.value >= 0.9 * rounds * latency;
    let tasks_first = rounds < 5.0 || tasks.value < 0.8 * pooled.value;
    let memory = large < 5_000 || 2.0 * tasks_mib.value < threads_mib.value;
    let speed = format!("at {large}: pool {pooled:.2} ({rounds} rounds), async {tasks:.2}");
    verdict(
        "every model overlaps the requests; at the largest size the pool queues, and threads cost memory",
        overlapped && queued && tasks_first && memory,
        &format!("{speed}; threads {threads_mib:.0}, async {tasks_mib:.0}"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
