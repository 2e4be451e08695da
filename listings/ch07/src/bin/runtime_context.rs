//! A function that spawns a tokio task panics outside a runtime; smol's global executor does not.
//!
//!     cargo run --release -p ch07 --bin runtime_context

use std::process::ExitCode;
use std::time::Duration;

use support::panic::catch_panic;
use support::report::{Table, verdict};
use tokio::runtime::{Builder, Handle};
use tokio::task::JoinHandle;

/// Call tokio's runtime-bound functions outside a runtime, then the fixes, then smol's.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated price fetch's latency, in milliseconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    latency_ms: u64,
}

// ANCHOR: feed
/// A (simulated) price fetch: it awaits tokio's timer.
async fn fetch_price(symbol: &'static str, latency: Duration) -> f64 {
    tokio::time::sleep(latency).await;
    if symbol == "ACME" { 101.5 } else { 0.0 }
}

/// Starts fetching a price in the background. Like a Python function that
/// calls `asyncio.create_task`, it needs a running runtime, and nothing in
/// its signature says so.
fn start_price_feed(symbol: &'static str, latency: Duration) -> JoinHandle<f64> {
    tokio::spawn(fetch_price(symbol, latency))
}

/// The fix: the function asks for the runtime it needs, by its type.
fn start_price_feed_on(
    runtime: &Handle,
    symbol: &'static str,
    latency: Duration,
) -> JoinHandle<f64> {
    runtime.spawn(fetch_price(symbol, latency))
}
// ANCHOR_END: feed

pub fn run(args: Args) -> ExitCode {
    let latency = Duration::from_millis(args.latency_ms);
    let runtime = Builder::new_current_thread().enable_all().build().expect("a runtime");
    let core = "must be called from the context of a Tokio 1.x runtime";
    let mut table = Table::new(["call", "outcome"]);
    let mut holds = true;

    // ANCHOR: outside
    // From plain synchronous code, no runtime anywhere on this thread.
    let spawned = catch_panic(|| start_price_feed("ACME", latency));
    let current = catch_panic(Handle::current);
    // ANCHOR_END: outside
    for (call, outcome) in
        [("start_price_feed()", spawned.err()), ("Handle::current()", current.err())]
    {
        let message = outcome.unwrap_or_else(|| "(no panic)".into());
        println!("{call} outside a runtime panicked with:\n  {message}");
        holds &= message.contains(core);
        let outcome = if message.contains(core) { "panic (above)" } else { "no panic" };
        table.row([call, outcome]);
    }

    // ANCHOR: fixes
    // Fix 1: pass the runtime's handle.
    let feed = start_price_feed_on(runtime.handle(), "ACME", latency);
    let passed = runtime.block_on(feed).expect("the feed ends");
    // Fix 2: enter the runtime; the guard sets the thread's context until dropped.
    let entered = {
        let _context = runtime.enter();
        start_price_feed("ACME", latency)
    };
    let entered = runtime.block_on(entered).expect("the feed ends");
    // ANCHOR_END: fixes
    table.row(["start_price_feed_on(handle)", &format!("ACME at {passed}")]);
    table.row(["runtime.enter(), then start_price_feed()", &format!("ACME at {entered}")]);
    holds &= passed == 101.5 && entered == 101.5;

    // ANCHOR: smol
    // smol::spawn, from plain synchronous code too: its executor is a global,
    // started on first use with one thread of its own ("smol-1").
    let task = smol::spawn(async move {
        smol::Timer::after(latency).await; // async-io's reactor is global too.
        std::thread::current().name().unwrap_or("?").to_string()
    });
    // Any executor can wait for it, even one that knows nothing about smol.
    let ran_on = futures::executor::block_on(task);
    // ANCHOR_END: smol
    table.row(["smol::spawn(), no block_on around it", &format!("ran on thread {ran_on}")]);
    holds &= ran_on.starts_with("smol-");
    table.print();

    verdict(
        "tokio::spawn and Handle::current panic outside a runtime; a Handle or runtime.enter() fixes it; smol::spawn needs neither",
        holds,
        &format!("both panics say \"{core}\"; the smol task ran on {ran_on}"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
