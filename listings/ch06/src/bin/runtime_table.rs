//! The same sleeping tasks on every runtime finish in about the longest sleep; the runtimes
//! differ in overhead, memory per task and threads, and 1,000,000 tasks fit in memory.
//!
//!     cargo run --release -p ch06 --bin runtime_table -- --tasks 10000 --min-ms 2000 --max-ms 4000

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ch06::mini_loop;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::task::LocalSpawnExt;
use support::report::{Table, metric, series, verdict};
use support::timing::{current_rss_bytes, peak_rss_bytes};

/// Sleep N tasks on each runtime, one child process per runtime, and compare.
#[derive(clap::Parser)]
pub struct Args {
    /// How many tasks in the main table.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=2_000_000))]
    tasks: u64,
    /// The shortest and longest sleep of the main table, in ms.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    min_ms: u64,
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    max_ms: u64,
    /// The task counts of the scaling table (0 skips it), with shorter sleeps.
    #[arg(long, default_values_t = [100_000, 1_000_000], value_delimiter = ',', value_parser = clap::value_parser!(u64).range(0..=2_000_000))]
    scale: Vec<u64>,
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    scale_min_ms: u64,
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    scale_max_ms: u64,
    /// Internal: run one runtime in this process and print its figures.
    #[arg(long, hide = true)]
    runtime: Option<String>,
}
const RUNTIMES: [&str; 6] =
    ["mini_loop", "tokio_current", "tokio_multi", "smol", "async_std", "futures_local"];

// ANCHOR: runtimes
/// Spawns one task per sleep on `runtime`; each returns after its sleep, and
/// the results are collected as they complete.
fn sleep_on(runtime: &str, sleeps: &[u64]) -> Report {
    let ms = |ms: u64| Duration::from_millis(ms);
    match runtime {
        "mini_loop" => mini_loop::block_on(collect(sleeps, |t| {
            mini_loop::spawn(async move { mini_loop::sleep(ms(t)).await })
        })),
        "tokio_current" | "tokio_multi" => {
            let mut builder = match runtime {
                "tokio_current" => tokio::runtime::Builder::new_current_thread(),
                _ => tokio::runtime::Builder::new_multi_thread(), // one worker per core
            };
            let tokio = builder.enable_time().build().expect("build the runtime");
            tokio.block_on(collect(sleeps, |t| tokio::spawn(tokio::time::sleep(ms(t)))))
        }
        "smol" => {
            let executor = smol::LocalExecutor::new();
            smol::block_on(executor.run(collect(sleeps, |t| {
                executor.spawn(async move { smol::Timer::after(ms(t)).await })
            })))
        }
        // Discontinued in 2025; its README points to smol.
        "async_std" => async_std::task::block_on(collect(sleeps, |t| {
            async_std::task::spawn(async_std::task::sleep(ms(t)))
        })),
        // The futures crate has executors but no timer: borrow smol's (async-io).
        _ => {
            let mut pool = futures::executor::LocalPool::new();
            let spawner = pool.spawner();
            pool.run_until(collect(sleeps, |t| {
                let sleeper = async_io::Timer::after(ms(t));
                spawner
                    .spawn_local_with_handle(async move {
                        sleeper.await;
                    })
                    .expect("spawn")
            }))
        }
    }
}

/// Spawns every task, then awaits them in the order they finish.
async fn collect<F: Future>(sleeps: &[u64], spawn: impl Fn(u64) -> F) -> Report {
    let spawning = Instant::now();
    let mut pending: FuturesUnordered<F> = sleeps.iter().map(|&t| spawn(t)).collect();
    let spawn_ns = spawning.elapsed().as_nanos() as f64 / sleeps.len() as f64;
    let (mut finished, mut threads) = (0, 0);
    while pending.next().await.is_some() {
        if finished == 0 {
            threads = std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count());
        }
        finished += 1;
    }
    Report { finished, spawn_ns, threads, ..Report::default() }
}
// ANCHOR_END: runtimes

/// What one child process measured.
#[derive(Debug, Default)]
struct Report {
    finished: usize,
    spawn_ns: f64,
    threads: usize,
    total_ms: f64,
    bytes_per_task: f64,
}

/// The same sleeps every run (and in the Python twin): a fixed seed.
fn sleeps(tasks: u64, min_ms: u64, max_ms: u64) -> Vec<u64> {
    support::random::sleeps_ms(support::random::SEED, tasks, min_ms, max_ms)
}

// ANCHOR: child
/// Peak memory is per process, so each runtime runs in a fresh child process.
fn in_child(runtime: &str, tasks: u64, min_ms: u64, max_ms: u64) -> Report {
    let flags = [("--tasks", tasks), ("--min-ms", min_ms), ("--max-ms", max_ms)];
    let mut child = support::child::command("runtime_table"); // This program again.
    child.args(["--runtime", runtime, "--scale", "0"]);
    for (flag, value) in flags {
        child.args([flag, &value.to_string()]);
    }
    let output = child.output().expect("run the child");
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<f64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    match numbers[..] {
        [finished, spawn_ns, threads, total_ms, bytes_per_task] => Report {
            finished: finished as usize,
            spawn_ns,
            threads: threads as usize,
            total_ms,
            bytes_per_task,
        },
        _ => panic!("child {runtime} failed: {text} {}", String::from_utf8_lossy(&output.stderr)),
    }
}

fn child(runtime: &str, args: &Args) {
    let baseline = current_rss_bytes();
    let sleeps = sleeps(args.tasks, args.min_ms, args.max_ms);
    let started = Instant::now();
    let mut report = sleep_on(runtime, &sleeps); // The runtime is built and dropped inside.
    report.total_ms = started.elapsed().as_secs_f64() * 1e3;
    report.bytes_per_task = (peak_rss_bytes().saturating_sub(baseline)) as f64 / args.tasks as f64;
    let Report { finished, spawn_ns, threads, total_ms, bytes_per_task } = report;
    println!("{finished} {spawn_ns} {threads} {total_ms} {bytes_per_task}");
}
// ANCHOR_END: child

pub fn run(args: Args) -> ExitCode {
    if args.min_ms > args.max_ms || args.scale_min_ms > args.scale_max_ms {
        eprintln!("error: each --*min-ms must not exceed its --*max-ms");
        return ExitCode::from(2);
    }
    if let Some(runtime) = args.runtime.as_deref().filter(|r| RUNTIMES.contains(r)) {
        child(runtime, &args);
        return ExitCode::SUCCESS;
    }
    let longest = *sleeps(args.tasks, args.min_ms, args.max_ms).iter().max().unwrap() as f64;
    let header = ["runtime", "tasks", "total", "overhead", "spawn/task", "memory/task", "threads"];
    let mut table = Table::new(header);
    let (mut failed, mut tokio_overhead) = (Vec::new(), 0.0);
    // Memory and spawn time per task, by task count, for the figures: the
    // three runtimes the scaling table also runs.
    let mut curves = Curves::default();
    for runtime in RUNTIMES {
        let report = in_child(runtime, args.tasks, args.min_ms, args.max_ms);
        curves.add(runtime, args.tasks, &report);
        let overhead = report.total_ms - longest;
        // About the longest sleep (far from the sum), and one thread where promised.
        let one_thread = !matches!(runtime, "mini_loop" | "tokio_current") || report.threads == 1;
        if report.finished != args.tasks as usize || report.total_ms > 1.5 * longest || !one_thread
        {
            failed.push(runtime);
        }
        if runtime == "tokio_current" {
            tokio_overhead = overhead;
        }
        row(&mut table, runtime, args.tasks, &report, overhead);
        metric(&format!("{runtime}_total_ms"), report.total_ms, "ms");
        metric(&format!("{runtime}_overhead_ms"), overhead, "ms");
        metric(&format!("{runtime}_spawn_ns"), report.spawn_ns, "ns");
        metric(&format!("{runtime}_bytes_per_task"), report.bytes_per_task, "B");
        metric(&format!("{runtime}_threads"), report.threads as f64, "threads");
    }
    println!(
        "{} tasks, sleeps of {}-{} ms, longest {longest:.0} ms",
        args.tasks, args.min_ms, args.max_ms
    );
    table.print();
    let scale: Vec<u64> = args.scale.iter().copied().filter(|&n| n > 0).collect();
    if !scale.is_empty() {
        let mut table = Table::new(header);
        let longest =
            *sleeps(scale[0], args.scale_min_ms, args.scale_max_ms).iter().max().unwrap() as f64;
        // The chapter's loop at the smallest size only: a million timers in its
        // binary heap take seconds, and the chapter's measurement stays short.
        let sizes = |runtime| {
            if runtime == "mini_loop" { &scale[..1] } else { &scale[..] }
        };
        for runtime in ["tokio_current", "smol", "mini_loop"] {
            for &tasks in sizes(runtime) {
                let report = in_child(runtime, tasks, args.scale_min_ms, args.scale_max_ms);
                curves.add(runtime, tasks, &report);
                let overhead = report.total_ms - longest;
                if report.finished != tasks as usize {
                    failed.push(runtime);
                }
                row(&mut table, runtime, tasks, &report, overhead);
                let name = format!("{runtime}_{}k", tasks / 1000);
                metric(&format!("{name}_total_ms"), report.total_ms, "ms");
                metric(&format!("{name}_bytes_per_task"), report.bytes_per_task, "B");
            }
        }
        println!("\nscaling up, sleeps of {}-{} ms", args.scale_min_ms, args.scale_max_ms);
        table.print();
    }
    curves.report();
    verdict(
        "on every runtime, N sleeping tasks finish in about the longest sleep, not the sum",
        failed.is_empty(),
        &format!(
            "tokio current-thread: {tokio_overhead:.1} ms beyond the longest sleep of {longest:.0} ms{}",
            if failed.is_empty() {
                String::new()
            } else {
                format!("; not on {}", failed.join(", "))
            }
        ),
    )
}

/// Points for the figures: (runtime, tasks, bytes per task, spawn ns per task).
#[derive(Default)]
struct Curves(Vec<(&'static str, f64, f64, f64)>);

impl Curves {
    const RUNTIMES: [(&'static str, &'static str); 3] =
        [("tokio_current", "tokio"), ("smol", "smol"), ("mini_loop", "mini_loop")];
    fn add(&mut self, runtime: &str, tasks: u64, report: &Report) {
        if let Some(&(_, name)) = Self::RUNTIMES.iter().find(|(r, _)| *r == runtime) {
            let (bytes, spawn_ns) = (report.bytes_per_task, report.spawn_ns);
            self.0.push((name, tasks as f64, bytes, spawn_ns));
        }
    }
    fn report(mut self) {
        self.0.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (_, name) in Self::RUNTIMES {
            let points = self.0.iter().filter(|point| point.0 == name);
            let bytes: Vec<_> = points.clone().map(|p| (p.1, p.2)).collect();
            let spawn: Vec<_> = points.map(|p| (p.1, p.3)).collect();
            series(&format!("bytes_per_task_{name}"), "tasks", "bytes per task", &bytes);
            series(&format!("spawn_ns_{name}"), "tasks", "ns per task", &spawn);
        }
    }
}

fn row(table: &mut Table, runtime: &str, tasks: u64, report: &Report, overhead: f64) {
    table.row([
        runtime.to_string(),
        tasks.to_string(),
        format!("{:.0} ms", report.total_ms),
        format!("{overhead:.1} ms"),
        format!("{:.0} ns", report.spawn_ns),
        format!("{:.0} B", report.bytes_per_task),
        report.threads.to_string(),
    ]);
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
