//! On every runtime N sleeping tasks take about the longest sleep; 1,000,000 of them fit in memory.
//!
//!     cargo run --release -p ch06 --bin runtime_table -- --tasks 10000 --min-ms 2000 --max-ms 4000

use std::process::ExitCode;

use ch06::{mini_loop, sleepers::collect};
use futures::task::LocalSpawnExt;
use support::random::{SEED, sleeps_ms};
use support::report::{Table, figure, series, verdict};
use support::timing::{current_rss_bytes, peak_rss_bytes, time};

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
    #[arg(long, hide = true)] // Internal: run one runtime here and print its figures.
    runtime: Option<String>,
}
const RUNTIMES: [&str; 6] =
    ["mini_loop", "tokio_current", "tokio_multi", "smol", "async_std", "futures_local"];
/// The runtimes of the scaling table, and their names in the series.
const SCALING: [(&str, &str); 3] =
    [("tokio_current", "tokio"), ("smol", "smol"), ("mini_loop", "mini_loop")];

// ANCHOR: runtimes
/// Spawns one task per sleep on `runtime`, and collects them as they complete.
fn sleep_on(runtime: &str, sleeps: &[u64]) -> (usize, f64, usize) {
    let on_tokio = |mut builder: tokio::runtime::Builder| {
        let tokio = builder.enable_time().build().expect("build the runtime");
        tokio.block_on(collect(sleeps, |t| tokio::spawn(tokio::time::sleep(t))))
    };
    match runtime {
        "mini_loop" => {
            mini_loop::block_on(collect(sleeps, |t| mini_loop::spawn(mini_loop::sleep(t))))
        }
        "tokio_current" => on_tokio(tokio::runtime::Builder::new_current_thread()),
        "tokio_multi" => on_tokio(tokio::runtime::Builder::new_multi_thread()), // a worker per core
        "smol" => {
            let executor = smol::LocalExecutor::new();
            let spawn = |t| executor.spawn(async move { smol::Timer::after(t).await });
            smol::block_on(executor.run(collect(sleeps, spawn)))
        }
        // Discontinued in 2025; its README points to smol.
        "async_std" => async_std::task::block_on(collect(sleeps, |t| {
            async_std::task::spawn(async_std::task::sleep(t))
        })),
        // The futures crate has executors but no timer: borrow smol's (async-io).
        _ => {
            let mut pool = futures::executor::LocalPool::new();
            let spawner = pool.spawner();
            let spawn = |t| spawner.spawn_local_with_handle(async_io::Timer::after(t));
            pool.run_until(collect(sleeps, |t| spawn(t).expect("spawn")))
        }
    }
}
// ANCHOR_END: runtimes

// ANCHOR: child
/// Peak memory is per process: each runtime runs in a child process, which prints five figures.
fn in_child(runtime: &str, tasks: u64, (min_ms, max_ms): (u64, u64)) -> [f64; 5] {
    let flags = format!("--runtime {runtime} --tasks {tasks} --min-ms {min_ms} --max-ms {max_ms}");
    let mut child = support::child::command("runtime_table"); // This program again.
    let output = child.args(flags.split(' ')).stderr(std::process::Stdio::inherit()).output();
    let text = String::from_utf8(output.expect("run the child").stdout).unwrap_or_default();
    let numbers: Vec<f64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    numbers.try_into().unwrap_or_else(|_| panic!("child {runtime} failed: {text}"))
}

fn child(runtime: &str, args: &Args) {
    let baseline = current_rss_bytes();
    // The same sleeps every run, and in the Python twin: a fixed seed.
    let sleeps = sleeps_ms(SEED, args.tasks, args.min_ms, args.max_ms);
    // The runtime is built and dropped inside `sleep_on`, so its time counts.
    let ((finished, spawn_ns, threads), took) = time(|| sleep_on(runtime, &sleeps));
    let bytes_per_task = peak_rss_bytes().saturating_sub(baseline) as f64 / args.tasks as f64;
    println!("{finished} {spawn_ns} {threads} {} {bytes_per_task}", took.as_secs_f64() * 1e3);
}
// ANCHOR_END: child

pub fn run(args: Args) -> ExitCode {
    if args.min_ms > args.max_ms || args.scale_min_ms > args.scale_max_ms {
        support::cli::refuse("each --*min-ms must not exceed its --*max-ms");
    }
    if let Some(runtime) = args.runtime.as_deref().filter(|r| RUNTIMES.contains(r)) {
        child(runtime, &args);
        return ExitCode::SUCCESS;
    }
    // Every runtime sleeps --min-ms to --max-ms; then three (two of the field's and the chapter's
    // own) scale up, with shorter sleeps, and their figures are named `{runtime}_{N}k_*`.
    let main = RUNTIMES.map(|r| (r, args.tasks, (args.min_ms, args.max_ms), false));
    let scale = args.scale.iter().filter(|&&n| n > 0);
    let short = (args.scale_min_ms, args.scale_max_ms);
    let large = SCALING.iter().flat_map(|&(r, _)| scale.clone().map(move |&n| (r, n, short, true)));
    let columns = "runtime|tasks|longest|total|overhead|spawn/task|memory/task|threads";
    let (mut table, mut curves) = (Table::new(columns.split('|')), Vec::new());
    let (mut not_on, mut tokio) = (String::new(), String::new());
    for (runtime, tasks, sleeps, scaled) in main.into_iter().chain(large) {
        let longest = *sleeps_ms(SEED, tasks, sleeps.0, sleeps.1).iter().max().unwrap() as f64;
        let [finished, spawn_ns, threads, total_ms, bytes] = in_child(runtime, tasks, sleeps);
        let name = if scaled { format!("{runtime}_{}k", tasks / 1000) } else { runtime.into() };
        let fig = |what: &str, value, unit| figure(&format!("{name}_{what}"), value, unit);
        let overhead = fig("overhead_ms", total_ms - longest, "ms");
        table.cells(&format!(
            "{runtime}|{tasks}|{longest} ms|{:.0}|{overhead:.1}|{:.0}|{:.0}|{:#}",
            fig("total_ms", total_ms, "ms"),
            fig("spawn_ns", spawn_ns, "ns"),
            fig("bytes_per_task", bytes, "B"),
            fig("threads", threads, "threads"),
        ));
        if name == "tokio_current" {
            tokio = format!("{overhead:.1} beyond the longest sleep of {longest} ms");
        }
        // All back, in about the longest sleep (far from the sum), on one thread where promised.
        let one_thread = !matches!(runtime, "mini_loop" | "tokio_current") || threads == 1.0;
        if finished != tasks as f64 || !(scaled || total_ms <= 1.5 * longest && one_thread) {
            not_on += &format!("; not on {runtime}");
        }
        curves.push((runtime, tasks as f64, bytes, spawn_ns));
    }
    table.print();
    // Memory and spawn time per task, by task count, for the figures.
    curves.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (runtime, name) in SCALING {
        let mine = curves.iter().filter(|c| c.0 == runtime);
        let (bytes, spawn): (Vec<_>, Vec<_>) = mine.map(|&(_, n, b, s)| ((n, b), (n, s))).unzip();
        series(&format!("bytes_per_task_{name}"), "tasks", "bytes per task", &bytes);
        series(&format!("spawn_ns_{name}"), "tasks", "ns per task", &spawn);
    }
    let claim = "on every runtime, N sleeping tasks finish in about the longest sleep, not the sum";
    verdict(claim, not_on.is_empty(), &format!("tokio current-thread: {tokio}{not_on}"))
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
