//! With an interpreter lock, CPU-bound threads take turns on one core; without it, on free cores.
//!
//!     cargo run --release -p ch02 --bin cpu_threads -- --work-ms 200

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use ch02::interpreter_lock::{InterpreterLock, Stats};
use support::report::{Table, figure, series, verdict};
use support::timing::{Sample, measure, ms, summarize};

/// Split one CPU-bound job over 1, 2 and 4 threads, with and without the lock.
#[derive(clap::Parser)]
pub struct Args {
    /// CPU time the whole job takes on one thread, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(20..=10_000))]
    work_ms: u64,
    /// The interpreter lock's switch interval, in milliseconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    switch_ms: u64,
    /// Times to run every configuration, interleaved; the table shows medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
    repeats: u64,
}

// ANCHOR: job
/// Splits `units` of work over `threads` threads. With a switch interval, every thread must hold
/// one interpreter lock to run, as a Python thread holds the GIL; without one, they are plain Rust
/// threads. Returns the job's clocks, the lock's hand-overs, and the most threads at work at once.
fn run_job(units: u64, threads: u64, switch_interval: Option<Duration>) -> (Sample, Stats, usize) {
    let lock = switch_interval.map(InterpreterLock::new);
    let (lock, running, most_running) = (lock.as_ref(), &AtomicUsize::new(0), &AtomicUsize::new(0));
    let ((), sample) = measure(|| {
        std::thread::scope(|scope| {
            for share in 0..threads {
                let mine = (units * share / threads)..(units * (share + 1) / threads);
                scope.spawn(move || {
                    // The only difference between the two jobs: the lock, and its checkpoints.
                    let mut interpreter = lock.map(InterpreterLock::acquire);
                    for unit in mine {
                        if let Some(interpreter) = &mut interpreter {
                            interpreter.checkpoint();
                        }
                        most_running.fetch_max(running.fetch_add(1, Relaxed) + 1, Relaxed);
                        std::hint::black_box(ch02::work::run_bytecodes(1000, unit));
                        running.fetch_sub(1, Relaxed);
                    }
                });
            }
        })
    });
    (sample, lock.map(InterpreterLock::stats).unwrap_or_default(), most_running.load(Relaxed))
}
// ANCHOR_END: job

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: rows
    let units = ch02::work::units_for(Duration::from_millis(args.work_ms));
    let interval = Duration::from_millis(args.switch_ms);
    // Rows: with the lock on 1, 2, 4 threads, then without it. Every row runs once per round, so a
    // burst of load from other programs on this shared machine lands on all rows, not on one.
    let rows = [(true, 1), (true, 2), (true, 4), (false, 1), (false, 2), (false, 4)];
    let mut runs = vec![Vec::new(); rows.len()];
    for _ in 0..args.repeats {
        for (r, &(locked, threads)) in rows.iter().enumerate() {
            runs[r].push(run_job(units, threads, locked.then_some(interval)));
        }
    }
    // ANCHOR_END: rows

    let mut table =
        Table::new("threads lock wall CPU CPU/wall speed-up together hand-overs lost".split(' '));
    let (mut walls, mut used, mut most, mut speedups) = (vec![], vec![], vec![], vec![]);
    for (r, &(locked, threads)) in rows.iter().enumerate() {
        let median = |f: fn(&_) -> f64| summarize(&Vec::from_iter(runs[r].iter().map(f))).median;
        let lock = if locked { "held" } else { "none" };
        let fig = |name, value, unit| figure(&format!("{name}_{lock}_{threads}"), value, unit);
        let wall = fig("wall_ms", median(|(s, ..)| ms(s.wall)), "ms");
        walls.push(wall.value);
        let cores_used = fig("cores_used", median(|(s, ..)| ms(s.cpu) / ms(s.wall)), "cores");
        // The speed-up is over the row on one thread with the same lock.
        let speedup = fig("speedup", walls[r / 3 * 3] / wall.value, "x");
        let together = fig("together", median(|&(.., most)| most as f64), "");
        let handovers = fig("handovers", median(|(_, stats, _)| stats.handovers as f64), "");
        let lost = fig("lost_ms", median(|(_, stats, _)| ms(stats.in_transit)), "ms");
        let cpu = median(|(s, ..)| ms(s.cpu));
        table.cells(&format!(
            "{threads}|{lock}|{wall:.0}|{cpu:.0} ms|{cores_used:#.2}|{speedup:.2}|{together}|\
             {handovers:.0}|{lost:.1}"
        ));
        used.push(cores_used.value);
        most.push(together.value);
        speedups.push((threads as f64, speedup.value));
    }
    table.print();
    series("speedup_held", "threads", "x", &speedups[..3]);
    series("speedup_none", "threads", "x", &speedups[3..]);
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let cores = figure("cores", cores, "cores");
    let [a, b, c, d] =
        [1, 2, 4, 5].map(|r| format!("{:.2}x on {:.2} cores", speedups[r].1, used[r]));
    let claim = "with the lock, one thread works at a time, on one core, so more threads bring no speed-up; without it, they work together, on no more cores than the machine has";
    let evidence = format!("2 and 4 threads with the lock: {a}, {b}; without: {c}, {d}; {cores}");
    verdict(claim, claim_holds(&used, &most, cores.value), &evidence)
}

/// The claim, from each row's cores used and most threads together (rows as in `run`), on `cores`.
/// With the lock no two threads are ever at work at once, so the job cannot finish sooner than on
/// one thread. Without it they are, on the cores that are free, which change by the second on a
/// shared machine: so the check is on the cause, not on a speed-up. Tests: `ch02/tests/claims.rs`.
pub fn claim_holds(used: &[f64], most: &[f64], cores: f64) -> bool {
    let one_at_a_time = (0..3).all(|r| most[r] == 1.0 && used[r] < 1.2);
    let together = cores < 2.0 || most[5] >= 2.0;
    one_at_a_time && together && used[5] < cores + 0.2
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
