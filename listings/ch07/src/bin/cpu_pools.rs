//! CPU work belongs on a pool sized to the cores, blocking waits on a big pool; both free the loop.
//!
//!     cargo run --release -p ch07 --bin cpu_pools -- --jobs 16 --waits 64

use std::process::ExitCode;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use ch07::heartbeat::Heartbeat;
use support::report::{Table, figure, verdict};
use support::timing::{ms, percentile, time};

/// Run CPU jobs, then blocking waits, on the loop and on three pools, next to a heartbeat.
#[derive(clap::Parser)]
pub struct Args {
    /// How many CPU jobs to run at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=512))]
    jobs: u64,
    /// Each CPU job's work, in millions of steps (about 25 ms on the book's machine).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    mega_steps: u64,
    /// How many blocking waits (20 ms sleeps standing for blocking I/O) to run at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=512))]
    waits: u64,
}

// ANCHOR: pools
/// A CPU job: a deterministic price walk (a stand-in for indicators over a price history).
fn indicators(steps: u64) -> ThreadId {
    let mut price = 1_000_000u64;
    for step in 0..steps {
        price = price.wrapping_mul(6364136223846793005).wrapping_add(step) % 1_000_003;
    }
    std::hint::black_box(price);
    std::thread::current().id() // Each job answers with the thread that ran it.
}

/// A blocking wait: a stand-in for a blocking client call.
fn blocking_wait(_: u64) -> ThreadId {
    std::thread::sleep(Duration::from_millis(20));
    std::thread::current().id()
}

type Job = fn(u64) -> ThreadId;

/// Runs one job on `pool` and awaits it.
async fn run_job(pool: &str, job: Job, arg: u64) -> ThreadId {
    match pool {
        // The job runs inside the task: the loop's thread computes.
        "loop" => job(arg),
        // Tokio's blocking pool: a new thread per job, up to 512.
        "spawn_blocking" => tokio::task::spawn_blocking(move || job(arg)).await.unwrap(),
        // The `blocking` crate's pool (smol's), up to 500 threads; any executor can await it.
        "unblock" => smol::unblock(move || job(arg)).await,
        // Rayon's global pool, one thread per core; the answer comes back on a oneshot.
        "rayon" => {
            let (answer, answered) = tokio::sync::oneshot::channel();
            rayon::spawn(move || answer.send(job(arg)).unwrap_or(())); // Receiver gone: fine.
            answered.await.expect("the job answers")
        }
        other => unreachable!("no pool named {other}"),
    }
}

/// Runs `count` jobs at once on `pool`, next to a 5 ms heartbeat; returns their
/// wall time, how many threads ran them, and the gaps between the beats.
fn run_on(pool: &'static str, job: Job, count: u64, arg: u64) -> (f64, usize, Vec<f64>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    runtime.expect("a runtime").block_on(async {
        let heartbeat = Heartbeat::start(Duration::from_millis(5));
        tokio::time::sleep(Duration::from_millis(15)).await; // A few regular beats first.
        let started = Instant::now(); // measuring
        let mut jobs = tokio::task::JoinSet::new();
        for _ in 0..count {
            jobs.spawn(run_job(pool, job, arg));
        }
        let threads: std::collections::HashSet<_> = jobs.join_all().await.into_iter().collect();
        let wall_ms = ms(started.elapsed()); // measuring
        (wall_ms, threads.len(), heartbeat.stop().await)
    })
}
// ANCHOR_END: pools

pub fn run(args: Args) -> ExitCode {
    let steps = args.mega_steps * 1_000_000;
    let job_ms = figure("job_ms", ms(time(|| indicators(steps)).1), "ms");
    // Enough waits for four rounds on rayon's pool, one thread per core,
    // whatever the cores: with fewer, a small pool would not show.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let waits = figure("waits", args.waits.max(4 * cores as u64) as f64, "waits");
    let mut table = Table::new(["work", "on", "wall", "jobs/s", "threads", "max gap", "p99 gap"]);
    let (cpu, wait) = ((indicators as Job, args.jobs), (blocking_wait as Job, waits.value as u64));
    let rows = [
        ("CPU", cpu, "loop", "on the loop"),
        ("CPU", cpu, "spawn_blocking", "spawn_blocking"),
        ("CPU", cpu, "unblock", "smol::unblock"),
        ("CPU", cpu, "rayon", "rayon + oneshot"),
        ("wait", wait, "spawn_blocking", "spawn_blocking"),
        ("wait", wait, "unblock", "smol::unblock"),
        ("wait", wait, "rayon", "rayon + oneshot"),
    ]
    .map(|(work, (job, count), pool, label)| {
        let (wall_ms, threads, gaps) = run_on(pool, job, count, steps);
        let key = format!("{}_{pool}", work.to_lowercase());
        let wall = figure(&format!("{key}_wall_ms"), wall_ms, "ms");
        let per_s = figure(&format!("{key}_jobs_per_s"), count as f64 / wall_ms * 1e3, "jobs/s");
        let threads = figure(&format!("{key}_threads"), threads as f64, "threads");
        let max_gap = figure(&format!("{key}_max_gap_ms"), percentile(&gaps, 100.0), "ms");
        let p99_gap = figure(&format!("{key}_p99_gap_ms"), percentile(&gaps, 99.0), "ms");
        let cells = format!("{wall:.0}|{per_s:#.0}|{threads:#}|{max_gap:.1}|{p99_gap:.1}");
        table.cells(&format!("{work}|{label}|{cells}"));
        (wall_ms, threads.value as usize, max_gap.value) // (wall, threads, longest gap) per row
    });
    table.print();
    println!("(one CPU job alone: {job_ms:.1}; heartbeat every 5 ms)");

    let [loop_cpu, blocking_cpu, _, rayon_cpu, blocking_waits, _, rayon_waits] = rows;
    let rounds = (waits.value / cores as f64).ceil();
    // On the loop, one gap spans (almost) all the jobs. On a pool, the heartbeat waits only for
    // the OS to give it a core: with 16 threads on a busy two-core machine that can take a while.
    let frees = blocking_cpu.2.max(rayon_cpu.2) < 0.75 * loop_cpu.2;
    let cpu_holds = loop_cpu.2 >= 0.8 * loop_cpu.0 && frees;
    let threads = blocking_cpu.1 as u64 >= args.jobs.min(512) / 2 && rayon_cpu.1 <= cores;
    let waits_hold = rayon_waits.0 >= 0.8 * rounds * 20.0 && blocking_waits.0 < 0.5 * rayon_waits.0;
    verdict(
        "CPU work on the loop stalls it; spawn_blocking and rayon free it; waits need spawn_blocking's many threads, not rayon's few",
        cpu_holds && threads && waits_hold,
        &format!(
            "longest gap {:.0} ms on the loop, {:.0} ms spawn_blocking, {:.0} ms rayon; {waits}: {:.0} ms on rayon's {} threads, {:.0} ms on spawn_blocking",
            loop_cpu.2, blocking_cpu.2, rayon_cpu.2, rayon_waits.0, rayon_waits.1, blocking_waits.0
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
