//! Sync code calls async via `block_on`, never inside a runtime: tokio panics, a foreign one hangs.
//!
//!     cargo run --release -p ch07 --bin sync_calls_async -- --patience-ms 500

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::future::{Either, select};
use support::panic::catch_panic;
use support::report::{Table, figure, verdict};
use support::timing::ms;
use tokio::runtime::{Builder, Handle};

/// Call an async quote fetch from sync code four ways.
#[derive(clap::Parser)]
pub struct Args {
    /// The quote fetch's latency, in milliseconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    latency_ms: u64,
    /// How long to wait for the deadlocked call before giving up, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    patience_ms: u64,
}

// ANCHOR: fetch
/// An async quote fetch that needs tokio's timer.
async fn fetch_quote(latency: Duration) -> f64 {
    tokio::time::sleep(latency).await;
    101.5
}
// ANCHOR_END: fetch

pub fn run(args: Args) -> ExitCode {
    let latency = Duration::from_millis(args.latency_ms);
    let mut table = Table::new(["sync code calls fetch_quote()", "outcome"]);

    // ANCHOR: block_on
    // 1. From main: a runtime of its own, and block_on.
    let runtime = Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (quote, took) = support::timing::time(|| runtime.block_on(fetch_quote(latency)));
    // 2. From another thread: the runtime's Handle is Send and Clone.
    let handle = runtime.handle().clone();
    let from_thread = std::thread::Builder::new()
        .name("report-writer".into())
        .spawn(move || handle.block_on(fetch_quote(latency)))
        .unwrap();
    let from_thread = from_thread.join().expect("the thread ends");
    // ANCHOR_END: block_on
    let took = figure("block_on_ms", ms(took), "ms");
    table.cells(&format!("Runtime::block_on, from main|{quote} after {took:.1}"));
    table.cells(&format!("Handle::block_on, from another thread|{from_thread}"));

    // ANCHOR: nested
    // 3. From inside the runtime: block_on would block a thread that drives tasks.
    let nested = runtime.block_on(async {
        let inside = Handle::current();
        catch_panic(AssertUnwindSafe(|| inside.block_on(fetch_quote(latency))))
    });
    // ANCHOR_END: nested
    let nested = nested.err().unwrap_or_else(|| "(no panic)".into());
    println!("Handle::block_on inside the runtime panicked with:\n  {nested}");
    table.row(["Handle::block_on, inside the runtime", "panic (above)"]);
    drop(runtime);

    // ANCHOR: hang
    // 4. From inside a current-thread runtime, through futures' block_on, which
    // knows nothing of tokio: it parks the one thread that drives tokio's timer.
    let (give_up, gave_up) = futures::channel::oneshot::channel::<()>();
    let (report, reported) = mpsc::channel();
    let stuck = std::thread::spawn(move || {
        let runtime = Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let started = Instant::now();
            let quote = Box::pin(fetch_quote(latency));
            let outcome = futures::executor::block_on(select(quote, gave_up));
            let finished = matches!(outcome, Either::Left(_));
            report.send((finished, started.elapsed())).unwrap();
        });
    });
    let patience = Duration::from_millis(args.patience_ms);
    let hung = reported.recv_timeout(patience).is_err();
    // The way out that a real program would not have: without it, this thread
    // would stay parked forever (and be killed when the process exits).
    let _ = give_up.send(());
    let (finished, released_after) = reported.recv().expect("the thread reports");
    stuck.join().expect("the thread ends");
    // ANCHOR_END: hang
    let hung_for = figure("hung_for_ms", ms(released_after), "ms");
    let outcome =
        if finished { "finished".into() } else { format!("still waiting after {hung_for:.1}") };
    table.row(["futures::executor::block_on, inside a current-thread runtime".into(), outcome]);
    table.print();

    let core = "Cannot start a runtime from within a runtime";
    let holds =
        quote == 101.5 && from_thread == 101.5 && nested.contains(core) && hung && !finished;
    verdict(
        "block_on works from sync code on any thread; inside a runtime tokio panics and futures' block_on hangs",
        holds,
        &format!(
            "a {}-ms fetch: {took:.1} through block_on; still waiting after {hung_for:.1} inside the runtime",
            args.latency_ms
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
