//! An `async fn` that awaits nothing is free from async code; from sync code it needs an executor.
//!
//!     cargo run --release -p ch07 --bin needless_async -- --calls 1000000

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use support::report::{Table, figure, verdict};
use support::timing::summarize;

/// Time one computation written as a plain fn and as an async fn, called five ways.
#[derive(clap::Parser)]
pub struct Args {
    /// How many calls to time per sample (a thousandth as many build a runtime each).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1000..=100_000_000))]
    calls: u64,
    /// How many samples to take; the table shows their median.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=50))]
    samples: u64,
}

// ANCHOR: spread
/// The spread between two prices: pure computation, nothing to wait for.
fn spread(bid: f64, ask: f64) -> f64 {
    ask - bid
}

/// The same, marked async: it awaits nothing, so it needn't be async.
/// Clippy's `unused_async` lint (pedantic, off by default) says so; the
/// `expect` makes `cargo clippy` fail if the lint ever stops firing here.
#[expect(clippy::unused_async, reason = "the lesson: this async fn awaits nothing")]
async fn spread_async(bid: f64, ask: f64) -> f64 {
    ask - bid
}
// ANCHOR_END: spread

/// A way to call: its label, its metric's name, how many calls, and a
/// function that makes them and returns nanoseconds per call.
type Way<'a> = (&'static str, &'static str, u64, &'a dyn Fn(u64) -> f64);

/// Nanoseconds per call of `call`, run `calls` times.
fn per_call(calls: u64, mut call: impl FnMut(f64) -> f64) -> f64 {
    let started = Instant::now();
    let mut total = 0.0;
    for i in 0..calls {
        total += call(black_box(i as f64));
    }
    black_box(total);
    started.elapsed().as_nanos() as f64 / calls as f64
}

pub fn run(args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let n = args.calls;
    // ANCHOR: callers
    let ways: [Way; 5] = [
        ("plain fn, from sync code", "plain", n, &|n| per_call(n, |bid| spread(bid, bid + 0.5))),
        ("async fn, awaited from async code", "awaited", n, &|n| {
            runtime.block_on(async {
                let started = Instant::now();
                let mut total = 0.0;
                for i in 0..n {
                    let bid = black_box(i as f64);
                    total += spread_async(bid, bid + 0.5).await;
                }
                black_box(total);
                started.elapsed().as_nanos() as f64 / n as f64
            })
        }),
        ("async fn, futures::executor::block_on", "futures_block_on", n, &|n| {
            per_call(n, |bid| futures::executor::block_on(spread_async(bid, bid + 0.5)))
        }),
        ("async fn, Runtime::block_on", "runtime_block_on", n, &|n| {
            per_call(n, |bid| runtime.block_on(spread_async(bid, bid + 0.5)))
        }),
        ("async fn, a new runtime per call", "runtime_per_call", n / 1000, &|n| {
            per_call(n, |bid| {
                let fresh =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                fresh.block_on(spread_async(bid, bid + 0.5))
            })
        }),
    ];
    // ANCHOR_END: callers
    let mut table = Table::new(["how it is called", "per call", "vs the plain fn"]);
    let mut medians = Vec::new();
    for (label, name, calls, time) in ways {
        let samples: Vec<f64> = (0..args.samples).map(|_| time(calls)).collect();
        let median = figure(&format!("{name}_ns"), summarize(&samples).median, "ns");
        let plain = medians.first().copied().unwrap_or(median.value);
        table.cells(&format!("{label}|{median:.1}|{:.0}x", median.value / plain.max(0.1)));
        medians.push(median.value);
    }
    table.print();
    let future_bytes = std::mem::size_of_val(&spread_async(1.0, 2.0)) as f64;
    let future_bytes = figure("future_bytes", future_bytes, "bytes");
    println!("size of spread_async's future: {future_bytes}; of spread's result: 8 bytes");

    let [plain, awaited, futures_block_on, runtime_block_on, per_runtime] = medians[..] else {
        unreachable!("five ways")
    };
    // A few nanoseconds either way are noise; the executor is orders of magnitude.
    let holds = runtime_block_on > 5.0 * awaited && per_runtime > 100.0 * awaited;
    verdict(
        "awaited from async code, a needless async fn costs nanoseconds; from sync code, the executor costs far more",
        holds,
        &format!(
            "{plain:.1} ns plain, {awaited:.1} ns awaited, {futures_block_on:.1} ns through futures' block_on, {runtime_block_on:.0} ns through tokio's, {per_runtime:.0} ns with a runtime per call"
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
