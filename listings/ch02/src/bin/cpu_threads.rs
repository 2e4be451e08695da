//! With an interpreter lock, CPU-bound threads take turns on one core; without it, on free cores.
//!
//!     cargo run --release -p ch02 --bin cpu_threads -- --work-ms 200

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread;
use std::time::Duration;

use ch02::interpreter_lock::{InterpreterLock, Stats};
use ch02::work::{run_bytecodes, units_for};
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
/// Splits `units` of work over `threads` threads. With a switch interval,
/// every thread must hold one interpreter lock to run, as Python threads
/// must hold the GIL; without one, the threads are plain Rust threads.
fn run_job(units: u64, threads: usize, switch_interval: Option<Duration>) -> Run {
    let lock = switch_interval.map(InterpreterLock::new);
    let (lock, running, most_running) = (lock.as_ref(), &AtomicUsize::new(0), &AtomicUsize::new(0));
    let ((), sample) = measure(|| {
        thread::scope(|scope| {
            for share in 0..threads as u64 {
                let mine = (units * share / threads as u64)..(units * (share + 1) / threads as u64);
                scope.spawn(move || {
                    // The only difference between the two kinds of job:
                    // the lock, and the checkpoints between units of work.
                    let mut interpreter = lock.map(InterpreterLock::acquire);
                    for unit in mine {
                        if let Some(interpreter) = &mut interpreter {
                            interpreter.checkpoint();
                        }
                        most_running.fetch_max(running.fetch_add(1, Relaxed) + 1, Relaxed);
                        std::hint::black_box(run_bytecodes(1000, unit));
                        running.fetch_sub(1, Relaxed);
                    }
                });
            }
        })
    });
    let stats = lock.map(InterpreterLock::stats).unwrap_or_default();
    let most_running = most_running.load(Relaxed);
    Run { sample, stats, most_running }
}
// ANCHOR_END: job

/// One run of the job: its clocks, the lock's hand-overs, and the most
/// threads that were inside a unit of work at the same moment.
#[derive(Clone)]
struct Run {
    sample: Sample,
    stats: Stats,
    most_running: usize,
}

pub fn run(args: Args) -> ExitCode {
    let units = units_for(Duration::from_millis(args.work_ms));
    let interval = Duration::from_millis(args.switch_ms);
    let cores = thread::available_parallelism().map_or(1, usize::from) as f64;
    // Rows: with the lock on 1, 2, 4 threads, then without it. Every row runs
    // once per round, so a burst of load from other programs on this shared
    // machine lands on all of them rather than on one row of the table.
    let rows = [(true, 1), (true, 2), (true, 4), (false, 1), (false, 2), (false, 4)];
    let mut runs = vec![Vec::new(); rows.len()];
    for _ in 0..args.repeats {
        for (r, &(locked, threads)) in rows.iter().enumerate() {
            runs[r].push(run_job(units, threads, locked.then_some(interval)));
        }
    }
    let median = |r: usize, f: &dyn Fn(&Run) -> f64| {
        summarize(&runs[r].iter().map(f).collect::<Vec<_>>()).median
    };
    let walls: Vec<f64> = (0..rows.len()).map(|r| median(r, &|run| ms(run.sample.wall))).collect();
    let mut table =
        Table::new("threads lock wall CPU CPU/wall speed-up together hand-overs lost".split(' '));
    let mut figures = Vec::new(); // [cores used, speed-up, together] of each row
    for (r, &(locked, threads)) in rows.iter().enumerate() {
        let lock = if locked { "held" } else { "none" };
        let fig =
            |name: &str, value, unit| figure(&format!("{name}_{lock}_{threads}"), value, unit);
        let wall = fig("wall_ms", walls[r], "ms");
        // CPU time over wall time: how many cores the job kept busy on average.
        let used = median(r, &|run| run.sample.cpu.as_secs_f64() / run.sample.wall.as_secs_f64());
        let used = fig("cores_used", used, "cores");
        let speedup = fig("speedup", walls[r / 3 * 3] / walls[r], "x"); // over one thread, same lock
        let together = fig("together", median(r, &|run| run.most_running as f64), "");
        let handovers = fig("handovers", median(r, &|run| run.stats.handovers as f64), "");
        let lost = fig("lost_ms", median(r, &|run| ms(run.stats.in_transit)), "ms");
        let (cpu, used_cores) = (median(r, &|run| ms(run.sample.cpu)), used.value);
        let cells = format!(
            "{threads}|{lock}|{wall:.0}|{cpu:.0} ms|{used_cores:.2}|{speedup:.2}|{together}|\
             {handovers:.0}|{lost:.1}"
        );
        table.cells(&cells);
        figures.push([used, speedup, together]);
    }
    table.print();
    for (r, name) in [(0, "speedup_held"), (3, "speedup_none")] {
        let points: Vec<_> = (r..r + 3).map(|r| (rows[r].1 as f64, figures[r][1].value)).collect();
        series(name, "threads", "x", &points);
    }
    let cores = figure("cores", cores, "cores");
    println!("\n{cores}; \"together\": the most threads inside a unit of work at once");

    let used: Vec<f64> = figures.iter().map(|[used, _, _]| used.value).collect();
    let most: Vec<f64> = figures.iter().map(|[_, _, together]| together.value).collect();
    let one = |r: usize| format!("{:.2} on {:.2} cores", figures[r][1], figures[r][0].value);
    let at = |r, s| format!("{}, {}", one(r), one(s));
    verdict(
        "with the lock, one thread works at a time, on one core, so more threads bring no speed-up; without it, they work together, on no more cores than the machine has",
        claim_holds(&used, &most, cores.value),
        &format!("2 and 4 threads with the lock: {}; without: {}", at(1, 2), at(4, 5)),
    )
}

/// The claim, from each row's cores used and most threads at work at once
/// (with the lock on 1, 2, 4 threads, then without), on `cores`. With the
/// lock no two threads are ever inside their work at once, so the job cannot
/// finish sooner than on one thread. Without it they are, on as many cores as
/// are free: on a machine shared with other programs that changes from one
/// second to the next, so the check is on the cause (threads at work
/// together), not on a speed-up. Unit tests: `ch02/tests/claims.rs`.
pub fn claim_holds(used: &[f64], most: &[f64], cores: f64) -> bool {
    let one_at_a_time = (0..3).all(|r| most[r] == 1.0 && used[r] < 1.2);
    let together = cores < 2.0 || most[5] >= 2.0;
    one_at_a_time && together && used[5] < cores + 0.2
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
