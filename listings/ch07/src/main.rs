//! The tour of chapter 7: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch07

use std::process::ExitCode;

use support::cli::parse_from;
use support::report::tour;

#[path = "bin/async_lock_deadlock.rs"]
mod async_lock_deadlock;
#[path = "bin/blocking_on_loop.rs"]
mod blocking_on_loop;
#[path = "bin/cpu_pools.rs"]
mod cpu_pools;
#[path = "bin/make_async.rs"]
mod make_async;
#[path = "bin/needless_async.rs"]
mod needless_async;
#[path = "bin/outliving_threads.rs"]
mod outliving_threads;
#[path = "bin/runtime_context.rs"]
mod runtime_context;
#[path = "bin/same_core_stall.rs"]
mod same_core_stall;
#[path = "bin/sqlite_actor.rs"]
mod sqlite_actor;
#[path = "bin/sync_calls_async.rs"]
mod sync_calls_async;
#[path = "bin/tokio_under_smol.rs"]
mod tokio_under_smol;
#[path = "bin/watchdog.rs"]
mod watchdog;

/// A listing's heading in the tour, and how the tour runs it.
type Listing = support::report::Stop;

/// The listings in book order; each runs with its defaults, the book's sizes.
const LISTINGS: [Listing; 12] = [
    (
        "Listing 7.1: a blocking call on the loop, and its fixes",
        || blocking_on_loop::run(parse_from(["blocking_on_loop"])),
    ),
    (
        "Listing 7.2: a read on another thread, on the loop's core",
        || same_core_stall::run(parse_from(["same_core_stall"])),
    ),
    ("Listing 7.3: a watchdog for slow polls", || {
        watchdog::run(parse_from(["watchdog"]))
    }),
    (
        "Listing 7.4: CPU work and blocking waits, on the loop and on three pools",
        || cpu_pools::run(parse_from(["cpu_pools"])),
    ),
    (
        "Listing 7.5: a function that needs a running runtime",
        || runtime_context::run(parse_from(["runtime_context"])),
    ),
    ("Listing 7.6: a tokio-only client under smol", || {
        tokio_under_smol::run(parse_from(["tokio_under_smol"]))
    }),
    ("Listing 7.7: an async fn that awaits nothing", || {
        needless_async::run(parse_from(["needless_async"]))
    }),
    ("Listing 7.8: calling async code from sync code", || {
        sync_calls_async::run(parse_from(["sync_calls_async"]))
    }),
    ("Listing 7.10: an async mutex held across .await", || {
        async_lock_deadlock::run(parse_from(["async_lock_deadlock"]))
    }),
    ("Listing 7.11: make_async, over spawn_blocking", || {
        make_async::run(parse_from(["make_async"]))
    }),
    (
        "Listing 7.12: a SQLite connection behind an actor, and a pool",
        || sqlite_actor::run(parse_from(["sqlite_actor"])),
    ),
    (
        "Listing 7.13: blocking tasks at shutdown, threads at exit",
        || outliving_threads::run(parse_from(["outliving_threads"])),
    ),
];

fn main() -> ExitCode {
    // outliving_threads starts its child process by running its own binary
    // again with `--worker`; inside the tour, that binary is this one.
    if std::env::args().any(|arg| arg == "--worker") {
        return outliving_threads::run(parse_from(std::env::args_os()));
    }
    println!("Chapter 7: mixing sync and async, the pitfalls");
    println!("(Listing 7.9 is a compiler error: the book shows it; the tour cannot run it)");
    tour(7, &LISTINGS)
}
