//! Told to stop by a token and awaited by a tracker, every worker runs its clean-up; aborted, none.
//!
//!     cargo run --release -p ch06 --bin graceful_shutdown -- --workers 8 --unit-ms 10

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::report::{Table, figure, verdict};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Stop the same workers two ways and count who ran their clean-up.
#[derive(clap::Parser)]
pub struct Args {
    /// Workers, each doing a job per unit until it is stopped.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    workers: u64,
    /// A job takes 1 unit, the clean-up 1 unit; the stop comes after 5 units.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    unit_ms: u64,
}

// ANCHOR: worker
/// Does a job per unit until told to stop, then flushes what it did: a
/// clean-up with an await in it, which needs the task to go on running.
/// Returns how many jobs it flushed.
async fn worker(stop: CancellationToken, unit: Duration, cleaned_up: Arc<AtomicU64>) -> u64 {
    let mut done = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(unit) => done += 1, // one job
        }
    }
    tokio::time::sleep(unit).await; // Flush the `done` jobs' results: write, sync, close.
    cleaned_up.fetch_add(1, Ordering::Relaxed);
    done
}
// ANCHOR_END: worker

pub fn run(args: Args) -> ExitCode {
    let unit = Duration::from_millis(args.unit_ms);
    let grace = 100 * unit;
    let (graceful, aborted) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
    let (in_time, stop_took) = runtime.expect("build the runtime").block_on(async {
        // ANCHOR: graceful
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        for _ in 0..args.workers {
            tracker.spawn(worker(stop.clone(), unit, graceful.clone()));
        }
        tokio::time::sleep(5 * unit).await; // The program works, then gets Ctrl-C.
        let stopping = Instant::now(); // measuring
        stop.cancel(); // Every worker sees it at its next await...
        tracker.close(); // ...and once no task can be added, wait() can end:
        let waited = tokio::time::timeout(grace, tracker.wait()).await; // asyncio.wait_for
        // ANCHOR_END: graceful
        let stop_took = stopping.elapsed();

        // ANCHOR: aborted
        let mut set = JoinSet::new();
        for _ in 0..args.workers {
            set.spawn(worker(CancellationToken::new(), unit, aborted.clone()));
        }
        tokio::time::sleep(5 * unit).await;
        set.shutdown().await; // Aborts every task, and waits until each is dropped.
        // ANCHOR_END: aborted
        (waited.is_ok(), stop_took)
    });
    let workers = args.workers;
    let graceful = figure("cleaned_up_graceful", graceful.load(Ordering::Relaxed) as f64, "");
    let aborted = figure("cleaned_up_aborted", aborted.load(Ordering::Relaxed) as f64, "");
    let stop_ms = figure("stop_ms", stop_took.as_secs_f64() * 1e3, "ms");
    let mut table = Table::new(["how the workers were stopped", "workers", "ran their clean-up"]);
    table.cells(&format!("token + tracker, waited for|{workers}|{graceful:#}"));
    table.cells(&format!("JoinSet::shutdown (abort)|{workers}|{aborted:#}"));
    table.print();
    println!("the token's stop took {stop_ms:.1}: one clean-up of {} ms", args.unit_ms);
    verdict(
        "stopped by a token and awaited, every worker cleans up; aborted, none does",
        in_time && graceful.value == workers as f64 && aborted.value == 0.0,
        &format!("{graceful:#} of {workers} cleaned up in {stop_ms:.0}, {aborted:#} when aborted"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
