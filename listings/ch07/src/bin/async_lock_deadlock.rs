//! An async mutex guard is `Send`, so it compiles across an `.await`, yet can deadlock; scope it.
//!
//!     cargo run --release -p ch07 --bin async_lock_deadlock -- --patience-ms 500

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::report::{Table, figure, verdict};
use tokio::sync::Mutex;
use tokio::time::{sleep, timeout};

/// Run two deadlocks with an async mutex, each under a timeout, and their fixes.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated price fetch's latency, in milliseconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    latency_ms: u64,
    /// How long to wait for a deadlocked task before giving up, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    patience_ms: u64,
}

// ANCHOR: reentrant
#[derive(Default)]
struct Portfolio {
    holdings: Vec<(&'static str, u32)>,
    value: f64,
}

type Shared = Arc<Mutex<Portfolio>>; // tokio::sync::Mutex

/// Prices every holding and stores the total; takes the lock twice, briefly.
async fn revalue(portfolio: &Shared, latency: Duration) {
    let holdings = portfolio.lock().await.holdings.clone();
    sleep(latency).await; // Fetch the prices.
    let value = holdings.iter().map(|(_, shares)| *shares as f64 * 101.5).sum();
    portfolio.lock().await.value = value;
}

async fn buy_then_revalue(portfolio: &Shared, latency: Duration) {
    let mut guard = portfolio.lock().await;
    guard.holdings.push(("ACME", 10));
    revalue(portfolio, latency).await; // Waits for the lock this task holds.
}

async fn buy_then_revalue_fixed(portfolio: &Shared, latency: Duration) {
    portfolio.lock().await.holdings.push(("ACME", 10)); // The guard ends here.
    revalue(portfolio, latency).await;
}
// ANCHOR_END: reentrant

// ANCHOR: ordering
/// Moves cash into shares: takes `first`, awaits a price, then takes `second`.
async fn transfer(first: &Mutex<f64>, second: &Mutex<f64>, latency: Duration) {
    let mut from = first.lock().await;
    sleep(latency).await; // Fetch the price while holding `first`.
    let mut to = second.lock().await;
    *from -= 1015.0;
    *to += 1015.0;
}
// ANCHOR_END: ordering

// ANCHOR: timed
/// Runs `task` for at most `patience`; a stuck task is dropped, with its guards.
async fn timed(patience: Duration, task: impl Future<Output = ()>) -> (bool, Duration) {
    let started = Instant::now();
    let finished = timeout(patience, task).await.is_ok();
    (finished, started.elapsed())
}

/// Both deadlocks and both fixes, each under `timed`.
async fn cases(latency: Duration, patience: Duration) -> [(bool, Duration); 4] {
    // It compiles: tokio's guards are Send, so tokio::spawn accepts the task.
    let portfolio = Shared::default();
    let stuck = tokio::spawn(timed(patience, async move {
        buy_then_revalue(&portfolio, latency).await;
    }));
    let stuck = stuck.await.expect("the task ends");
    let scoped = timed(patience, buy_then_revalue_fixed(&Shared::default(), latency)).await;
    let (cash, shares) = (Mutex::new(1e6), Mutex::new(0.0));
    let opposite = timed(patience, async {
        tokio::join!(transfer(&cash, &shares, latency), transfer(&shares, &cash, latency));
    });
    let (cash, shares) = (Mutex::new(1e6), Mutex::new(0.0));
    let same = timed(patience, async {
        tokio::join!(transfer(&cash, &shares, latency), transfer(&cash, &shares, latency));
    });
    [stuck, scoped, opposite.await, same.await]
}
// ANCHOR_END: timed

pub fn run(args: Args) -> ExitCode {
    let [latency, patience] = [args.latency_ms, args.patience_ms].map(Duration::from_millis);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let outcomes = rt.expect("a runtime").block_on(cases(latency, patience));
    let mut table = Table::new(["case", "finished", "after"]);
    let labels = [
        ("guard held while revalue() locks again", "reentrant"),
        ("guard scoped before the await", "scoped"),
        ("two tasks, two locks, opposite orders", "opposite_order"),
        ("two tasks, two locks, the same order", "same_order"),
    ];
    for ((label, name), (finished, after)) in labels.iter().zip(outcomes) {
        let after = figure(&format!("{name}_ms"), after.as_secs_f64() * 1e3, "ms");
        let finished = if finished { "yes" } else { "no: timed out" };
        table.cells(&format!("{label}|{finished}|{after:.0}"));
    }
    table.print();
    let [(reentrant, _), (scoped, _), (opposite, _), (same, _)] = outcomes;
    verdict(
        "a guard held across an .await deadlocks on re-entry and on opposite lock orders; a scoped guard or one order does not",
        !reentrant && scoped && !opposite && same,
        &format!("gave up after {} ms on both deadlocks; both fixes finished", args.patience_ms),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
