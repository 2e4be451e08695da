//! CPU-heavy tasks run about twice as fast on two loops on two cores, in one runtime or two.
//!
//!     cargo run --release -p ch06 --bin two_loops -- --tasks 16 --work-ms 20

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Instant;

use support::report::{Table, figure, skipped, verdict};
use support::timing::{measure, summarize, thread_cpu_time};

/// Run the same CPU-heavy tasks on one loop and on two.
#[derive(clap::Parser)]
pub struct Args {
    /// How many CPU-heavy tasks.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..=1_000))]
    tasks: u64,
    /// About how long each task computes on this machine, in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    work_ms: u64,
    /// How many times to time each setup (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=50))]
    repeats: u64,
}

// ANCHOR: crunch
/// A fixed amount of arithmetic (xorshift rounds), the same on every setup,
/// with an await every million rounds so that it shares its loop politely.
async fn crunch(rounds: u64, running: Arc<AtomicUsize>, most: Arc<AtomicUsize>) -> u64 {
    let mut state = rounds | 1;
    for chunk in (0..rounds).step_by(1_000_000) {
        most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
        for _ in chunk..(chunk + 1_000_000).min(rounds) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
        }
        running.fetch_sub(1, SeqCst);
        tokio::task::yield_now().await;
    }
    state
}

/// Runs `tasks` crunches on `runtime` and waits for them all; returns the most
/// that were in progress at the same moment.
fn crunch_all(runtime: &tokio::runtime::Runtime, tasks: u64, rounds: u64) -> usize {
    let (running, most) = (Arc::default(), Arc::new(AtomicUsize::new(0)));
    runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            set.spawn(crunch(rounds, Arc::clone(&running), Arc::clone(&most)));
        }
        while let Some(done) = set.join_next().await {
            std::hint::black_box(done.expect("a crunch finished"));
        }
    });
    most.load(SeqCst)
}
// ANCHOR_END: crunch

pub fn run(args: Args) -> ExitCode {
    let current = || tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    // Calibrate: how many rounds take about `work_ms` of CPU here. CPU time,
    // not wall time, so that a busy machine does not shrink the work.
    let before = thread_cpu_time();
    let probe = crunch_all(&current(), 1, 10_000_000);
    let probe_ms = (thread_cpu_time() - before).as_secs_f64() * 1e3;
    let rounds = (10_000_000.0 * args.work_ms as f64 / probe_ms) as u64;
    let (tasks, mut walls, mut most) = (args.tasks, [vec![], vec![], vec![]], [probe; 3]);
    let mut cores_used = vec![]; // CPU time over wall time, for the two setups with two loops
    for _ in 0..args.repeats {
        // ANCHOR: setups
        // 1. One loop on one thread: the tasks take turns.
        let one = current();
        let started = Instant::now();
        most[0] = crunch_all(&one, tasks, rounds);
        walls[0].push(started.elapsed());
        // 2. tokio's multi-threaded runtime with two workers: two loops that
        //    share the tasks and steal work from each other.
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build();
        let multi = multi.expect("a runtime");
        let (most_multi, sample) = measure(|| crunch_all(&multi, tasks, rounds));
        most[1] = most_multi;
        walls[1].push(sample.wall);
        cores_used.push(sample.cpu.as_secs_f64() / sample.wall.as_secs_f64());
        // 3. Two single-threaded loops on two threads, half the tasks each,
        //    as one would run two asyncio loops in two processes.
        let (halves, sample) = measure(|| {
            std::thread::scope(|scope| {
                let half = || scope.spawn(|| crunch_all(&current(), tasks / 2, rounds));
                [half(), half()].map(|thread| thread.join().expect("a loop thread"))
            })
        });
        most[2] = halves.iter().sum();
        walls[2].push(sample.wall);
        cores_used.push(sample.cpu.as_secs_f64() / sample.wall.as_secs_f64());
        // ANCHOR_END: setups
    }
    let Args { work_ms, repeats, .. } = args;
    println!("{tasks} tasks of about {work_ms} ms of arithmetic each, {repeats} repeats");
    let mut table = Table::new(["setup", "wall, median (min-max)", "speedup", "most at once"]);
    let mut medians = [0.0; 3];
    let setups = [
        ("1 loop (current-thread)", "one_loop_ms"),
        ("tokio multi-thread, 2 workers", "multi_thread_ms"),
        ("2 current-thread loops on 2 threads", "two_loops_ms"),
    ];
    for (i, (setup, name)) in setups.into_iter().enumerate() {
        let ms = summarize(&walls[i].iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>());
        medians[i] = figure(name, ms.median, "ms").value;
        table.cells(&format!("{setup}|{ms:.0} ms|{:.2}x|{}", medians[0] / ms.median, most[i]));
    }
    table.print();
    let multi = figure("multi_thread_speedup", medians[0] / medians[1], "x");
    let two = figure("two_loops_speedup", medians[0] / medians[2], "x");
    // Two loops can only be twice as fast if this program gets two cores. On a
    // machine shared with other busy programs it may get less: say so.
    let cores = figure("cores_used", summarize(&cores_used).median, "cores");
    println!("cores' worth of CPU this program got with two loops: {cores:#.2}");
    let claim =
        "CPU-heavy tasks finish about twice as fast on two loops on two free cores as on one loop";
    let one_core = std::thread::available_parallelism().map_or(1, usize::from) < 2;
    if cores.value < 1.6 {
        return skipped(claim, if one_core { "one core" } else { "other programs held the core" });
    }
    verdict(
        claim,
        most[0] == 1 && most[2] >= 2 && multi.value > 1.4 && two.value > 1.4,
        &format!("{multi:.2} with tokio's 2 workers, {two:.2} with 2 loops, on {cores:.2}"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
