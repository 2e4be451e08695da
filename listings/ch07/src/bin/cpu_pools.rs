//! CPU work belongs on a pool sized to the cores, blocking waits on a pool sized for waiting; either one frees the loop.
//!
//!     cargo run --release -p ch07 --bin cpu_pools -- --jobs 16 --waits 64

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use support::report::{Table, metric, verdict};

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

#[derive(Clone, Copy, PartialEq)]
enum Pool {
    OnTheLoop,
    SpawnBlocking,
    Unblock,
    Rayon,
}

/// A CPU job: a deterministic price walk (a stand-in for indicators over a price history).
fn indicators(steps: u64) -> (u64, ThreadId) {
    let mut price = 1_000_000u64;
    for step in 0..steps {
        price = price.wrapping_mul(6364136223846793005).wrapping_add(step) % 1_000_003;
    }
    (std::hint::black_box(price), std::thread::current().id())
}

/// A blocking wait: a stand-in for a blocking client call.
fn blocking_wait() -> (u64, ThreadId) {
    std::thread::sleep(Duration::from_millis(20));
    (0, std::thread::current().id())
}

// ANCHOR: pools
/// Runs every job at once on `pool` and awaits them all.
async fn run_on(pool: Pool, jobs: Vec<fn(u64) -> (u64, ThreadId)>, arg: u64) -> Vec<ThreadId> {
    let mut handles = Vec::new();
    for job in jobs {
        handles.push(tokio::spawn(async move {
            match pool {
                // The job runs inside the task: the loop's thread computes.
                Pool::OnTheLoop => job(arg),
                // Tokio's blocking pool: a new thread per job, up to 512.
                Pool::SpawnBlocking => tokio::task::spawn_blocking(move || job(arg)).await.unwrap(),
                // The `blocking` crate's pool (smol's), up to 500 threads; any executor can await it.
                Pool::Unblock => smol::unblock(move || job(arg)).await,
                // Rayon's global pool, one thread per core; the answer comes back on a oneshot.
                Pool::Rayon => {
                    let (answer, answered) = tokio::sync::oneshot::channel();
                    rayon::spawn(move || {
                        let _ = answer.send(job(arg)); // The receiver may be gone: fine.
                    });
                    answered.await.expect("the job answers")
                }
            }
        }));
    }
    let mut threads = Vec::new();
    for handle in handles {
        threads.push(handle.await.expect("the job ends").1);
    }
    threads
}
// ANCHOR_END: pools

struct Row {
    wall_ms: f64,
    threads: usize,
    max_gap_ms: f64,
    p99_gap_ms: f64,
}

/// Runs the jobs next to a 5 ms heartbeat on a current-thread runtime.
fn measure(pool: Pool, jobs: Vec<fn(u64) -> (u64, ThreadId)>, arg: u64) -> Row {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    runtime.expect("a runtime").block_on(async {
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let beats = tokio::spawn(async move {
            let (mut gaps, mut last) = (Vec::new(), Instant::now());
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(5)).await;
                gaps.push(last.elapsed().as_secs_f64() * 1e3);
                last = Instant::now();
            }
            gaps
        });
        tokio::time::sleep(Duration::from_millis(15)).await;
        let started = Instant::now();
        let threads = run_on(pool, jobs, arg).await;
        let wall_ms = started.elapsed().as_secs_f64() * 1e3;
        done.store(true, Ordering::Relaxed);
        let mut gaps = beats.await.expect("the heartbeat ends");
        gaps.sort_by(f64::total_cmp);
        let p99_gap_ms = gaps[((gaps.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)];
        let threads = threads.into_iter().collect::<HashSet<_>>().len();
        Row { wall_ms, threads, max_gap_ms: gaps[gaps.len() - 1], p99_gap_ms }
    })
}

pub fn run(args: Args) -> ExitCode {
    let steps = args.mega_steps * 1_000_000;
    let job_ms = support::timing::time(|| indicators(steps)).1.as_secs_f64() * 1e3;
    let cpu_jobs = vec![indicators as fn(u64) -> (u64, ThreadId); args.jobs as usize];
    let waits = vec![(|_| blocking_wait()) as fn(u64) -> (u64, ThreadId); args.waits as usize];
    let mut table =
        Table::new(["work", "where", "wall", "jobs/s", "threads", "max gap", "p99 gap"]);
    let mut rows = Vec::new();
    for (work, jobs, pools) in [
        ("CPU", &cpu_jobs, &[Pool::OnTheLoop, Pool::SpawnBlocking, Pool::Unblock, Pool::Rayon][..]),
        ("wait", &waits, &[Pool::SpawnBlocking, Pool::Unblock, Pool::Rayon][..]),
    ] {
        for &pool in pools {
            let (label, name) = match pool {
                Pool::OnTheLoop => ("on the loop", "loop"),
                Pool::SpawnBlocking => ("spawn_blocking", "spawn_blocking"),
                Pool::Unblock => ("smol::unblock", "unblock"),
                Pool::Rayon => ("rayon + oneshot", "rayon"),
            };
            let row = measure(pool, jobs.clone(), steps);
            let per_s = jobs.len() as f64 / row.wall_ms * 1e3;
            table.row([
                work.to_string(),
                label.to_string(),
                format!("{:.0} ms", row.wall_ms),
                format!("{per_s:.0}"),
                row.threads.to_string(),
                format!("{:.1} ms", row.max_gap_ms),
                format!("{:.1} ms", row.p99_gap_ms),
            ]);
            let key = format!("{}_{name}", work.to_lowercase());
            metric(&format!("{key}_wall_ms"), row.wall_ms, "ms");
            metric(&format!("{key}_jobs_per_s"), per_s, "jobs/s");
            metric(&format!("{key}_threads"), row.threads as f64, "threads");
            metric(&format!("{key}_max_gap_ms"), row.max_gap_ms, "ms");
            metric(&format!("{key}_p99_gap_ms"), row.p99_gap_ms, "ms");
            rows.push((pool, row));
        }
    }
    table.print();
    println!("(one CPU job alone: {job_ms:.1} ms; heartbeat every 5 ms)");
    metric("job_ms", job_ms, "ms");

    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let [loop_cpu, blocking_cpu, _, rayon_cpu, blocking_wait, _, rayon_wait] = &rows[..] else {
        unreachable!("seven rows")
    };
    let rounds = args.waits.div_ceil(cores as u64) as f64;
    // On the loop, one gap spans (almost) all the jobs. On a pool, the
    // heartbeat waits only for the OS to give it a core: with 16 threads on
    // a busy two-core machine that can take a while, hence the margin.
    let frees = |pool: &Row| pool.max_gap_ms < 0.75 * loop_cpu.1.max_gap_ms;
    let holds = loop_cpu.1.max_gap_ms >= 0.8 * loop_cpu.1.wall_ms
        && frees(&blocking_cpu.1)
        && frees(&rayon_cpu.1)
        && blocking_cpu.1.threads as u64 >= args.jobs.min(512) / 2
        && rayon_cpu.1.threads <= cores
        && rayon_wait.1.wall_ms >= 0.8 * rounds * 20.0
        && blocking_wait.1.wall_ms < 0.5 * rayon_wait.1.wall_ms;
    verdict(
        "CPU work on the loop stalls it; spawn_blocking and rayon free it; waits need spawn_blocking's many threads, not rayon's few",
        holds,
        &format!(
            "longest gap {:.0} ms on the loop, {:.0} ms spawn_blocking, {:.0} ms rayon; {} waits: {:.0} ms on rayon's {} threads, {:.0} ms on spawn_blocking",
            loop_cpu.1.max_gap_ms,
            blocking_cpu.1.max_gap_ms,
            rayon_cpu.1.max_gap_ms,
            args.waits,
            rayon_wait.1.wall_ms,
            rayon_wait.1.threads,
            blocking_wait.1.wall_ms
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
