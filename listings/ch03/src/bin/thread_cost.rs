//! A thread costs microseconds to start and some KiB; it reserves a 2 MiB stack it never touches.
//!
//!     cargo run --release -p ch03 --bin thread_cost -- --batches 15 --live 2000

use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::thread;

use support::report::{Table, figure, verdict};
use support::timing::{current_rss_bytes, summarize};

/// Measure what one OS thread costs: to start, and to keep alive.
#[derive(clap::Parser)]
pub struct Args {
    /// Batches of spawn+join timed; the figure is the median batch.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=1000))]
    batches: u64,
    /// Threads started and joined one after another in each batch.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    per_batch: u64,
    /// Threads kept alive at once to weigh their memory.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(500..=20_000))]
    live: u64,
}

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: spawn_join
    // Start a thread, let it do nothing, wait for it to end; one after another.
    let per_thread_us: Vec<f64> = (0..args.batches)
        .map(|_| {
            let start = std::time::Instant::now();
            for quote in 0..args.per_batch {
                thread::spawn(move || std::hint::black_box(quote)).join().unwrap();
            }
            start.elapsed().as_secs_f64() * 1e6 / args.per_batch as f64
        })
        .collect();
    // ANCHOR_END: spawn_join
    let spawn = summarize(&per_thread_us);

    // ANCHOR: two_rounds
    // The first round also makes glibc create its per-thread malloc arenas
    // (kept for the process's life); the second round weighs threads alone.
    // glibc keeps up to 40 MiB of freed stacks for reuse, so the second round
    // maps about 20 stacks fewer than it starts threads: a slight undercount.
    live_threads(args.live as usize);
    let [rss_kib, reserved_kib, kernel_kib] = live_threads(args.live as usize);
    // ANCHOR_END: two_rounds

    // The main thread's stack is not spawned: its size is `ulimit -s`.
    let main_stack_kib = proc_number("/proc/self/limits", "Max stack size", 3) as f64 / 1024.0;
    let reserved = figure("reserved_kib", reserved_kib, "KiB");
    let mut table = Table::new(["one thread", "costs"]);
    for (label, cost) in [
        ("spawn + join", figure("spawn_join_us", spawn.median, "µs")),
        ("resident memory", figure("rss_per_thread_kib", rss_kib, "KiB")),
        ("kernel stack", figure("kernel_stack_kib", kernel_kib, "KiB")),
        ("address space", reserved),
        ("main's stack", figure("main_stack_kib", main_stack_kib, "KiB")),
    ] {
        table.cells(&format!("{label}|{cost:.1}"));
    }
    table.print();
    figure("reserved_over_rss", reserved_kib / rss_kib, "x");

    verdict(
        "a thread starts in microseconds and keeps a few KiB resident of the 2 MiB it reserves",
        spawn.median < 1000.0 && rss_kib < reserved_kib / 8.0 && reserved_kib > 1800.0,
        &format!("spawn+join {spawn:.1} µs, {rss_kib:.0} KiB resident of {reserved:.0} reserved"),
    )
}

// ANCHOR: live_memory
/// Keeps `live` threads alive at once, each parked on a barrier, and returns
/// how much the process grew per thread, in KiB, by each measure of `weigh`.
fn live_threads(live: usize) -> [f64; 3] {
    let before = weigh();
    let all_started = Arc::new(Barrier::new(live + 1));
    let release = Arc::new(Barrier::new(live + 1));
    let parked: Vec<_> = (0..live)
        .map(|_| {
            let (all_started, release) = (all_started.clone(), release.clone());
            thread::spawn(move || {
                all_started.wait();
                release.wait();
            })
        })
        .collect();
    all_started.wait();
    let now = weigh();
    release.wait();
    parked.into_iter().for_each(|thread| thread.join().unwrap());
    std::array::from_fn(|i| (now[i] - before[i]) / live as f64)
}

/// What the process holds now, in KiB: resident memory (the pages touched),
/// address space (reserved, mostly never touched), and the kernel stacks of
/// every thread on the machine (`KernelStack` in /proc/meminfo).
fn weigh() -> [f64; 3] {
    let kib = |path, prefix| proc_number(path, prefix, 1) as f64;
    let resident = current_rss_bytes() as f64 / 1024.0;
    [resident, kib("/proc/self/status", "VmSize:"), kib("/proc/meminfo", "KernelStack:")]
}
// ANCHOR_END: live_memory

/// Field `field` of the first line of `path` that starts with `prefix`; 0 if
/// it is not a number (`unlimited`).
fn proc_number(path: &str, prefix: &str, field: usize) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let line = text.lines().find(|l| l.starts_with(prefix)).unwrap();
    line.split_whitespace().nth(field).unwrap().parse().unwrap_or(0)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
