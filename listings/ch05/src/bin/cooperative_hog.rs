//! Cooperative means cooperative: a task that never reaches `.await` starves every task beside it.
//!
//!     cargo run --release -p ch05 --bin cooperative_hog -- --hog-ms 300 --tick-ms 10

use std::hint::black_box;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::report::{Table, figure, verdict};

/// Run a heartbeat next to a CPU hog on one thread, three ways.
#[derive(clap::Parser)]
pub struct Args {
    /// How long the hog computes, in milliseconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    hog_ms: u64,
    /// How often the heartbeat should tick, in milliseconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100))]
    tick_ms: u64,
}

// ANCHOR: hogs
/// Three ways to run the same computation beside the heartbeat.
#[derive(Clone, Copy)]
enum Hog {
    /// A busy loop inside an async block: it never reaches an `.await`.
    Busy,
    /// The same loop, with `yield_now().await` after every millisecond of work.
    Yielding,
    /// The same loop, moved to tokio's blocking thread pool.
    SpawnBlocking,
}

/// Computes for `work` (a stand-in for parsing a large response, or indicators over a price history).
fn compute(work: Duration) {
    let start = Instant::now();
    let mut checksum = 0u64;
    while start.elapsed() < work {
        for price in 0..1_000u64 {
            checksum = checksum.wrapping_mul(31).wrapping_add(black_box(price));
        }
    }
    black_box(checksum);
}

/// Runs the hog next to a heartbeat on a current-thread runtime; returns the
/// heartbeat's ticks during the hog and the longest gap between two ticks.
fn heartbeat_next_to(hog: Hog, args: &Args) -> (usize, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
    runtime.expect("runtime").block_on(async {
        let ticks = Arc::new(Mutex::new(Vec::new()));
        let beats = ticks.clone();
        let tick = Duration::from_millis(args.tick_ms);
        let heartbeat = tokio::spawn(async move {
            let mut every = tokio::time::interval(tick);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                beats.lock().unwrap().push(Instant::now());
            }
        });
        tokio::time::sleep(tick * 5).await; // A few regular beats first.
        let work = Duration::from_millis(args.hog_ms);
        let timed = move |work| (Instant::now(), compute(work), Instant::now());
        let (started, (), ended) = match hog {
            Hog::Busy => tokio::spawn(async move { timed(work) }).await,
            Hog::Yielding => {
                tokio::spawn(async move {
                    let started = Instant::now();
                    while started.elapsed() < work {
                        compute(Duration::from_millis(1));
                        tokio::task::yield_now().await; // Back to the scheduler: others run.
                    }
                    (started, (), Instant::now())
                })
                .await
            }
            Hog::SpawnBlocking => tokio::task::spawn_blocking(move || timed(work)).await,
        }
        .expect("the hog finishes");
        tokio::time::sleep(tick * 5).await; // And a few after.
        heartbeat.abort();
        let ticks = ticks.lock().unwrap();
        let during = ticks.iter().filter(|&&t| t > started && t < ended).count();
        let gaps = ticks.windows(2).map(|pair| pair[1] - pair[0]);
        (during, gaps.max().unwrap_or_default())
    })
}
// ANCHOR_END: hogs

pub fn run(args: Args) -> ExitCode {
    let expected = figure("expected_ticks", (args.hog_ms / args.tick_ms) as f64, "ticks");
    let hog_ms = figure("hog_ms", args.hog_ms as f64, "ms");
    let mut table = Table::new(["the hog", "ticks during it", "expected", "longest gap"]);
    let rows = [
        (Hog::Busy, "busy loop, no .await", "busy"),
        (Hog::Yielding, "yield_now() every 1 ms", "yielding"),
        (Hog::SpawnBlocking, "spawn_blocking", "spawn_blocking"),
    ];
    let [(busy_ticks, busy), (_, yielding), (_, blocking)] = rows.map(|(hog, label, name)| {
        let (during, gap) = heartbeat_next_to(hog, &args);
        let during = figure(&format!("ticks_{name}"), during as f64, "ticks");
        let gap = figure(&format!("gap_{name}_ms"), support::timing::ms(gap), "ms");
        table.cells(&format!("{label}|{during:#}|{expected:#}|{gap:.1}"));
        (during.value, gap)
    });
    table.print();
    let stalled = busy_ticks == 0.0 && busy.value >= 0.9 * hog_ms.value;
    let freed = yielding.value < 0.5 * hog_ms.value && blocking.value < 0.5 * hog_ms.value;
    let claim = "a busy loop with no .await stops the heartbeat for its whole run; yield_now or spawn_blocking bring it back";
    let fixes = format!("{yielding:.0} yielding, {blocking:.0} with spawn_blocking");
    let evidence =
        format!("longest gap: {busy:.0} with the busy loop ({hog_ms:.0} of work), {fixes}");
    verdict(claim, stalled && freed, &evidence)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
