//! One task fails: returning at its error drops a JoinSet, which aborts the rest; loose tasks run on.
//!
//!     cargo run --release -p ch06 --bin join_set_failure -- --unit-ms 10

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::report::{Table, figure, verdict};
use tokio::task::JoinSet;

/// Five fetches, one of which fails, collected two ways.
#[derive(clap::Parser)]
pub struct Args {
    /// ACME takes 1 unit, INIT fails after 2, the other three take 30.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(5..=1_000))]
    unit_ms: u64,
}

/// (symbol, units it takes, whether it succeeds)
const FETCHES: [(&str, u32, bool); 5] = [
    ("ACME", 1, true),
    ("INIT", 2, false),
    ("GLOBEX", 30, true),
    ("HOOLI", 30, true),
    ("UMBRELLA", 30, true),
];

/// How the fetches of one run ended.
#[derive(Default)]
struct Tally {
    started: AtomicU64,
    finished: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
}

// ANCHOR: fetch
/// Counts its fetch cancelled when dropped before the fetch's end.
struct Unfinished(Option<Arc<Tally>>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(tally) = self.0.take() {
            tally.cancelled.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn fetch(
    tally: Arc<Tally>,
    (symbol, units, ok): (&'static str, u32, bool),
    unit: Duration,
) -> Result<&'static str, String> {
    tally.started.fetch_add(1, Ordering::Relaxed);
    let mut unfinished = Unfinished(Some(tally.clone()));
    tokio::time::sleep(units * unit).await;
    unfinished.0 = None; // It reached its end: not cancelled.
    let outcome = if ok { &tally.finished } else { &tally.failed };
    outcome.fetch_add(1, Ordering::Relaxed);
    if ok { Ok(symbol) } else { Err(format!("{symbol}: no such ticker")) }
}
// ANCHOR_END: fetch

// ANCHOR: join_set
/// Like `async with asyncio.TaskGroup()`: the tasks belong to the set, and
/// `?` at the first error drops the set, which aborts every task left in it.
async fn fetch_all_in_a_set(
    tally: Arc<Tally>,
    unit: Duration,
) -> Result<Vec<&'static str>, String> {
    let mut set = JoinSet::new();
    for fetch_spec in FETCHES {
        set.spawn(fetch(tally.clone(), fetch_spec, unit));
    }
    let mut symbols = Vec::new();
    while let Some(joined) = set.join_next().await {
        symbols.push(joined.expect("no fetch panics")?);
    }
    Ok(symbols)
}
// ANCHOR_END: join_set

// ANCHOR: loose
/// Like `asyncio.gather`: `?` at the first error returns, and dropping the
/// other JoinHandles detaches their tasks, which run on to their end.
async fn fetch_all_loose(tally: Arc<Tally>, unit: Duration) -> Result<Vec<&'static str>, String> {
    let handles = FETCHES.map(|fetch_spec| tokio::spawn(fetch(tally.clone(), fetch_spec, unit)));
    let mut symbols = Vec::new();
    for handle in handles {
        symbols.push(handle.await.expect("no fetch panics")?);
    }
    Ok(symbols)
}
// ANCHOR_END: loose

pub fn run(args: Args) -> ExitCode {
    let unit = Duration::from_millis(args.unit_ms);
    let (in_set, loose) = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
    // ANCHOR: run
    let errors = runtime.expect("build the runtime").block_on(async {
        let in_set_error = fetch_all_in_a_set(in_set.clone(), unit).await.expect_err("INIT fails");
        let loose_error = fetch_all_loose(loose.clone(), unit).await.expect_err("INIT fails");
        // Wait past the slowest fetch: whatever still runs now gets to its end.
        tokio::time::sleep(40 * unit).await;
        [in_set_error, loose_error]
    });
    // ANCHOR_END: run
    let mut table =
        Table::new(["collected", "error returned", "started", "finished", "failed", "cancelled"]);
    let mut counts = Vec::new();
    for (way, name, tally, error) in [
        ("JoinSet, ? at the error", "join_set", &in_set, &errors[0]),
        ("spawned, ? at the error", "loose", &loose, &errors[1]),
    ] {
        let [started, finished, failed, cancelled] =
            [&tally.started, &tally.finished, &tally.failed, &tally.cancelled]
                .map(|n| n.load(Ordering::Relaxed));
        let finished = figure(&format!("{name}_finished"), finished as f64, "");
        let cancelled = figure(&format!("{name}_cancelled"), cancelled as f64, "");
        table.cells(&format!("{way}|{error}|{started}|{finished}|{failed}|{cancelled}"));
        counts.push([started, finished.value as u64, failed, cancelled.value as u64]);
    }
    table.print();
    verdict(
        "a JoinSet dropped at the first error cancels the 3 fetches still running; loose tasks finish",
        counts == [[5, 1, 1, 3], [5, 4, 1, 0]],
        &format!(
            "started, finished, failed, cancelled: JoinSet {:?}, loose {:?}",
            counts[0], counts[1]
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
