//! CPU work belongs on a pool sized to the cores, blocking waits on a big pool; both free the loop.
//!
//!     cargo run --release -p ch07 --bin cpu_pools -- --jobs 16 --waits 64

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

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

/// Runs the jobs next to a 5 ms heartbeat on a current-thread runtime; returns
/// their wall time, how many threads ran them, and the gaps between the beats.
fn measure(pool: Pool, jobs: Vec<fn(u64) -> (u64, ThreadId)>, arg: u64) -> (f64, usize, Vec<f64>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    runtime.expect("a runtime").block_on(async {
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let beats = tokio::spawn(async move {
            let (mut gaps, mut last) = (Vec::new(), Instant::now());
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(5)).await;
                gaps.push(ms(last.elapsed()));
                last = Instant::now();
            }
            gaps
        });
        tokio::time::sleep(Duration::from_millis(15)).await;
        let started = Instant::now();
        let threads: HashSet<_> = run_on(pool, jobs, arg).await.into_iter().collect();
        let wall_ms = ms(started.elapsed());
        done.store(true, Ordering::Relaxed);
        (wall_ms, threads.len(), beats.await.expect("the heartbeat ends"))
    })
}

pub fn run(args: Args) -> ExitCode {
    let steps = args.mega_steps * 1_000_000;
    let job_ms = ms(time(|| indicators(steps)).1);
    let cpu_jobs = vec![indicators as fn(u64) -> (u64, ThreadId); args.jobs as usize];
    // Enough waits for four rounds on rayon's pool, one thread per core,
    // whatever the cores: with fewer, a small pool would not show.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let count = figure("waits", args.waits.max(4 * cores as u64) as f64, "waits");
    let waits = vec![(|_| blocking_wait()) as fn(u64) -> (u64, ThreadId); count.value as usize];
    let mut table =
        Table::new(["work", "where", "wall", "jobs/s", "threads", "max gap", "p99 gap"]);
    let mut rows = Vec::new(); // (wall, threads, longest gap) per row
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
            let (wall_ms, threads, gaps) = measure(pool, jobs.clone(), steps);
            let key = format!("{}_{name}", work.to_lowercase());
            let wall = figure(&format!("{key}_wall_ms"), wall_ms, "ms");
            let per_s = jobs.len() as f64 / wall_ms * 1e3;
            let per_s = figure(&format!("{key}_jobs_per_s"), per_s, "jobs/s").value;
            let threads = figure(&format!("{key}_threads"), threads as f64, "threads").value;
            let max_gap = figure(&format!("{key}_max_gap_ms"), percentile(&gaps, 100.0), "ms");
            let p99_gap = figure(&format!("{key}_p99_gap_ms"), percentile(&gaps, 99.0), "ms");
            let gaps = [max_gap, p99_gap].map(|gap| format!("{gap:.1}"));
            let cells = [format!("{wall:.0}"), format!("{per_s:.0}"), threads.to_string()];
            table.row([work.into(), label.into()].into_iter().chain(cells).chain(gaps));
            rows.push((wall_ms, threads as usize, max_gap.value));
        }
    }
    table.print();
    let job_ms = figure("job_ms", job_ms, "ms");
    println!("(one CPU job alone: {job_ms:.1}; heartbeat every 5 ms)");

    let [loop_cpu, blocking_cpu, _, rayon_cpu, blocking_wait, _, rayon_wait] = rows[..] else {
        unreachable!("seven rows")
    };
    let rounds = (count.value / cores as f64).ceil();
    // On the loop, one gap spans (almost) all the jobs. On a pool, the
    // heartbeat waits only for the OS to give it a core: with 16 threads on
    // a busy two-core machine that can take a while, hence the margin.
    let frees = |pool: (f64, usize, f64)| pool.2 < 0.75 * loop_cpu.2;
    let cpu_holds = loop_cpu.2 >= 0.8 * loop_cpu.0 && frees(blocking_cpu) && frees(rayon_cpu);
    let threads = blocking_cpu.1 as u64 >= args.jobs.min(512) / 2 && rayon_cpu.1 <= cores;
    let waits_hold = rayon_wait.0 >= 0.8 * rounds * 20.0 && blocking_wait.0 < 0.5 * rayon_wait.0;
    let (loop_gap, blocking_gap, rayon_gap) = (loop_cpu.2, blocking_cpu.2, rayon_cpu.2);
    let (waits, on_rayon, rayon_threads) = (count.value, rayon_wait.0, rayon_wait.1);
    let on_blocking = blocking_wait.0;
    verdict(
        "CPU work on the loop stalls it; spawn_blocking and rayon free it; waits need spawn_blocking's many threads, not rayon's few",
        cpu_holds && threads && waits_hold,
        &format!(
            "longest gap {loop_gap:.0} ms on the loop, {blocking_gap:.0} ms spawn_blocking, {rayon_gap:.0} ms rayon; {waits} waits: {on_rayon:.0} ms on rayon's {rayon_threads} threads, {on_blocking:.0} ms on spawn_blocking"
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
