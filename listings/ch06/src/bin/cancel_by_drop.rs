//! Dropping a future cancels it at its await; dropping a JoinHandle detaches, a smol Task cancels.
//!
//!     cargo run --release -p ch06 --bin cancel_by_drop -- --unit-ms 50

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use support::report::verdict;

/// Cancel the same two-step job four ways and print what ran.
#[derive(clap::Parser)]
pub struct Args {
    /// Cancellations come after 1 unit; a detached job's response after 1 unit.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(10..=1_000))]
    unit_ms: u64,
}

/// What happened, in order: printed as it happens, and kept for the check.
static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn event(what: String) {
    println!("  {what}");
    EVENTS.lock().unwrap().push(what);
}

// ANCHOR: job
/// Runs when the future that owns it is dropped, finished or not.
struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        event(format!("{}: cleanup (Drop) runs", self.0));
    }
}

/// Sends a request, waits for the response, saves it: two steps and an await.
async fn fetch_and_save(symbol: &'static str, response: impl Future) {
    let _cleanup = Cleanup(symbol);
    event(format!("{symbol}: request sent"));
    response.await; // A cancelled job stops here for good.
    event(format!("{symbol}: response saved"));
}
// ANCHOR_END: job

// ANCHOR: cleaned_up
/// Waits, a nap at a time, until the job of `symbol` has run its cleanup:
/// the way to know that a detached task has finished (at most 1,000 naps).
async fn cleaned_up<F: Future>(symbol: &str, nap: impl Fn() -> F) {
    let done = format!("{symbol}: cleanup (Drop) runs");
    for _ in 0..1_000 {
        if EVENTS.lock().unwrap().contains(&done) {
            return;
        }
        nap().await;
    }
}
// ANCHOR_END: cleaned_up

pub fn run(args: Args) -> ExitCode {
    let unit = Duration::from_millis(args.unit_ms);
    EVENTS.lock().unwrap().clear();
    let tokio = tokio::runtime::Builder::new_current_thread().enable_time().build();
    // Responses take 100 units, so the cancellations after 1 unit come first
    // even on a busy machine; detached jobs get quick responses.
    let (slow, quick) = (100 * unit, unit);
    tokio.expect("build the runtime").block_on(async {
        // ANCHOR: tokio
        println!("timeout (asyncio.wait_for) drops the future when time is up:");
        let job = fetch_and_save("ACME", tokio::time::sleep(slow));
        let outcome = tokio::time::timeout(unit, job).await;
        event(format!("ACME: timeout says {outcome:?}"));

        println!("a spawned task, aborted (task.cancel()):");
        let task = tokio::spawn(fetch_and_save("INIT", tokio::time::sleep(slow)));
        tokio::time::sleep(unit).await;
        task.abort();
        let cancelled = task.await.expect_err("an aborted task").is_cancelled();
        event(format!("INIT: the JoinHandle reports cancelled = {cancelled}"));

        println!("a spawned task whose JoinHandle is dropped: it runs on, detached:");
        drop(tokio::spawn(fetch_and_save("GLOBEX", tokio::time::sleep(quick))));
        cleaned_up("GLOBEX", || tokio::time::sleep(unit)).await;
        // ANCHOR_END: tokio
    });
    // ANCHOR: smol
    println!("a smol Task is cancelled when dropped; detach() lets it run on:");
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let task = executor.spawn(fetch_and_save("UMBRELLA", smol::Timer::after(slow)));
        smol::Timer::after(unit).await;
        drop(task);
        let task = executor.spawn(fetch_and_save("HOOLI", smol::Timer::after(quick)));
        task.detach();
        cleaned_up("HOOLI", || smol::Timer::after(unit)).await;
    }));
    // ANCHOR_END: smol

    // One line per job, its events in order: only the two detached jobs save their response.
    let expected = [
        "ACME: request sent|ACME: cleanup (Drop) runs|ACME: timeout says Err(Elapsed(()))",
        "INIT: request sent|INIT: cleanup (Drop) runs|INIT: the JoinHandle reports cancelled = true",
        "GLOBEX: request sent|GLOBEX: response saved|GLOBEX: cleanup (Drop) runs",
        "UMBRELLA: request sent|UMBRELLA: cleanup (Drop) runs",
        "HOOLI: request sent|HOOLI: response saved|HOOLI: cleanup (Drop) runs",
    ];
    let expected: Vec<&str> = expected.iter().flat_map(|job| job.split('|')).collect();
    let events = EVENTS.lock().unwrap().clone();
    let (n, saved) = (events.len(), events.iter().filter(|e| e.ends_with("saved")).count());
    verdict(
        "a dropped future never runs the code after its pending await; only Drop runs",
        events == expected,
        &format!("{n} events in the expected order; {saved} of 5 jobs saved their response"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
