//! The tour of chapter 3: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch03

use std::process::ExitCode;

use support::cli::parse_from;
use support::report::tour;

#[path = "bin/context_switch.rs"]
mod context_switch;
#[path = "bin/main_returns.rs"]
mod main_returns;
#[path = "bin/panic_at_join.rs"]
mod panic_at_join;
#[path = "bin/preemption.rs"]
mod preemption;
#[path = "bin/ten_thousand_threads.rs"]
mod ten_thousand_threads;
#[path = "bin/thread_ceiling.rs"]
mod thread_ceiling;
#[path = "bin/thread_cost.rs"]
mod thread_cost;
#[path = "bin/thread_limits.rs"]
mod thread_limits;
#[path = "bin/volume_by_symbol.rs"]
mod volume_by_symbol;
#[path = "bin/worker_pool.rs"]
mod worker_pool;

/// A listing's heading, and how the tour runs it.
type Listing = support::report::Stop;

/// The listings in book order; each runs with its defaults, the book's sizes.
/// (Listing 3.8, `spawn_borrows_local`, is a compiler error: see the page.)
const LISTINGS: [Listing; 10] = [
    ("Listing 3.1: what a thread costs", || {
        thread_cost::run(parse_from(["thread_cost"]))
    }),
    ("Listing 3.2: a context switch", || {
        context_switch::run(parse_from(["context_switch"]))
    }),
    ("Listing 3.3: 10,000 sleeping threads", || {
        ten_thousand_threads::run(parse_from(["ten_thousand_threads"]))
    }),
    ("Listing 3.4: the limits on threads", || {
        thread_limits::run(parse_from(["thread_limits"]))
    }),
    ("Listing 3.5: threads until the kernel refuses", || {
        thread_ceiling::run(parse_from(["thread_ceiling"]))
    }),
    ("Listing 3.6: a pool of four workers", || {
        worker_pool::run(parse_from(["worker_pool"]))
    }),
    ("Listing 3.7: preemption", || {
        preemption::run(parse_from(["preemption"]))
    }),
    ("Listing 3.9: one table, four ways to share it", || {
        volume_by_symbol::run(parse_from(["volume_by_symbol"]))
    }),
    ("Listing 3.10: a panic comes back at join", || {
        panic_at_join::run(parse_from(["panic_at_join"]))
    }),
    ("Listing 3.11: when main returns", || {
        main_returns::run(parse_from(["main_returns"]))
    }),
];

fn main() -> ExitCode {
    // Listings 3.5 and 3.11 run this same program again as a child process;
    // when this process is that child, it plays the child's part and ends.
    if let Some(code) = thread_ceiling::child_role().or_else(main_returns::child_role) {
        return code;
    }
    println!("Chapter 3: threads");
    tour(3, &LISTINGS)
}
