//! On every runtime N sleeping tasks take about the longest sleep; 1,000,000 of them fit in memory.
//!
//!     cargo run --release -p ch06 --bin runtime_table -- --tasks 10000 --min-ms 2000 --max-ms 4000

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ch06::mini_loop;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::task::LocalSpawnExt;
use support::random::{SEED, sleeps_ms};
use support::report::{Table, figure, series, verdict};
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
        "mini_loop" => {
            mini_loop::block_on(collect(sleeps, |t| mini_loop::spawn(mini_loop::sleep(ms(t)))))
        }
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
            let sleeper = |t| spawner.spawn_local_with_handle(async_io::Timer::after(ms(t)));
            pool.run_until(collect(sleeps, |t| sleeper(t).expect("spawn")))
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
#[derive(Clone, Copy, Debug, Default)]
struct Report {
    finished: usize,
    spawn_ns: f64,
    threads: usize,
    total_ms: f64,
    bytes_per_task: f64,
}

// ANCHOR: child
/// Peak memory is per process, so each runtime runs in a fresh child process.
fn in_child(runtime: &str, tasks: u64, min_ms: u64, max_ms: u64) -> Report {
    let flags = format!(
        "--runtime {runtime} --scale 0 --tasks {tasks} --min-ms {min_ms} --max-ms {max_ms}"
    );
    let mut child = support::child::command("runtime_table"); // This program again.
    let output = child.args(flags.split(' ')).output().expect("run the child");
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<f64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    let [finished, spawn_ns, threads, total_ms, bytes_per_task] = numbers[..] else {
        panic!("child {runtime} failed: {text} {}", String::from_utf8_lossy(&output.stderr));
    };
    let (finished, threads) = (finished as usize, threads as usize);
    Report { finished, spawn_ns, threads, total_ms, bytes_per_task }
}

fn child(runtime: &str, args: &Args) {
    let baseline = current_rss_bytes();
    // The same sleeps every run, and in the Python twin: a fixed seed.
    let sleeps = sleeps_ms(SEED, args.tasks, args.min_ms, args.max_ms);
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
    let (min_ms, max_ms) = (args.min_ms, args.max_ms);
    let (mut rows, longest) = table(RUNTIMES.map(|r| (r, args.tasks)).to_vec(), min_ms, max_ms, "");
    let tokio = rows[1].2.total_ms - longest; // RUNTIMES[1]: tokio's current-thread runtime
    // Three runtimes scale up: two of the field's and the chapter's own.
    let scale: Vec<u64> = args.scale.iter().copied().filter(|&n| n > 0).collect();
    let sizes = |r| scale.iter().map(move |&n| (r, n));
    let runs: Vec<_> = ["tokio_current", "smol", "mini_loop"].into_iter().flat_map(sizes).collect();
    if !runs.is_empty() {
        rows.extend(table(runs, args.scale_min_ms, args.scale_max_ms, "\nscaling up").0);
    }
    // Memory and spawn time per task, by task count, for the figures.
    rows.sort_by_key(|row| row.1);
    let curve = |runtime, y: fn(&Report) -> f64| -> Vec<_> {
        rows.iter().filter(|row| row.0 == runtime).map(|row| (row.1 as f64, y(&row.2))).collect()
    };
    for (runtime, name) in
        [("tokio_current", "tokio"), ("smol", "smol"), ("mini_loop", "mini_loop")]
    {
        let (bytes, spawn) = (curve(runtime, |r| r.bytes_per_task), curve(runtime, |r| r.spawn_ns));
        series(&format!("bytes_per_task_{name}"), "tasks", "bytes per task", &bytes);
        series(&format!("spawn_ns_{name}"), "tasks", "ns per task", &spawn);
    }
    let failed: Vec<&str> = rows.iter().filter(|row| !row.3).map(|row| row.0).collect();
    let not_on = (!failed.is_empty()).then(|| format!("; not on {}", failed.join(", ")));
    verdict(
        "on every runtime, N sleeping tasks finish in about the longest sleep, not the sum",
        failed.is_empty(),
        &format!(
            "tokio current-thread: {tokio:.1} ms beyond the longest sleep of {longest:.0} ms{}",
            not_on.unwrap_or_default()
        ),
    )
}

/// Runs each (runtime, tasks) in a child and prints their table, the main one
/// or (with a `title`) a scaling one, whose figures are named `{runtime}_{N}k_*`.
/// Returns the rows, each with whether it held, and the longest sleep.
type Row = (&'static str, u64, Report, bool);
fn table(runs: Vec<(&'static str, u64)>, min_ms: u64, max_ms: u64, title: &str) -> (Vec<Row>, f64) {
    let longest = *sleeps_ms(SEED, runs[0].1, min_ms, max_ms).iter().max().unwrap() as f64;
    let header = ["runtime", "tasks", "total", "overhead", "spawn/task", "memory/task", "threads"];
    let (mut table, mut rows) = (Table::new(header), Vec::new());
    for (runtime, tasks) in runs {
        let r = in_child(runtime, tasks, min_ms, max_ms);
        let name =
            if title.is_empty() { runtime.into() } else { format!("{runtime}_{}k", tasks / 1000) };
        let total = figure(&format!("{name}_total_ms"), r.total_ms, "ms");
        let overhead = figure(&format!("{name}_overhead_ms"), r.total_ms - longest, "ms");
        let spawn = figure(&format!("{name}_spawn_ns"), r.spawn_ns, "ns");
        let memory = figure(&format!("{name}_bytes_per_task"), r.bytes_per_task, "B");
        let threads = figure(&format!("{name}_threads"), r.threads as f64, "threads").value;
        let [total, spawn, memory] = [total, spawn, memory].map(|f| format!("{f:.0}"));
        let (overhead, threads) = (format!("{overhead:.1}"), threads.to_string());
        table.row([runtime.into(), tasks.to_string(), total, overhead, spawn, memory, threads]);
        // About the longest sleep (far from the sum), and one thread where promised.
        let one_thread = !matches!(runtime, "mini_loop" | "tokio_current") || r.threads == 1;
        let in_time = !title.is_empty() || r.total_ms <= 1.5 * longest && one_thread;
        rows.push((runtime, tasks, r, r.finished == tasks as usize && in_time));
    }
    let range = format!("sleeps of {min_ms}-{max_ms} ms");
    match title {
        "" => println!("{} tasks, {range}, longest {longest:.0} ms", rows[0].1),
        _ => println!("{title}, {range}"),
    }
    table.print();
    (rows, longest)
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
