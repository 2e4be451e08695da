//! The tour of chapter 3: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch03

use std::process::ExitCode;

use support::cli::parse_from;
use support::report::heading;

#[path = "bin/context_switch.rs"]
mod context_switch;
#[path = "bin/ten_thousand_threads.rs"]
mod ten_thousand_threads;
#[path = "bin/thread_cost.rs"]
mod thread_cost;

/// A listing's heading, and how the tour runs it.
type Listing = (&'static str, fn() -> ExitCode);

/// The listings in book order; each runs with its defaults, the book's sizes.
const LISTINGS: [Listing; 3] = [
    ("Listing 3.1: what a thread costs", || {
        thread_cost::run(parse_from(["thread_cost"]))
    }),
    ("Listing 3.2: a context switch", || {
        context_switch::run(parse_from(["context_switch"]))
    }),
    ("Listing 3.3: 10,000 sleeping threads", || {
        ten_thousand_threads::run(parse_from(["ten_thousand_threads"]))
    }),
];

fn main() -> ExitCode {
    println!("Chapter 3: threads");
    let mut failed = Vec::new();
    for (title, run) in LISTINGS {
        heading(title);
        if run() != ExitCode::SUCCESS {
            failed.push(title);
        }
    }
    if failed.is_empty() {
        println!("\nevery claim of chapter 3 held on this machine");
        ExitCode::SUCCESS
    } else {
        println!("\nclaims that failed: {}", failed.join("; "));
        ExitCode::FAILURE
    }
}
