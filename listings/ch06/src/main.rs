//! The tour of chapter 6: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch06

use std::process::ExitCode;

use support::cli::{parse, parse_from};
use support::report::tour;

#[path = "bin/cancel_by_drop.rs"]
mod cancel_by_drop;
#[path = "bin/gather_and_race.rs"]
mod gather_and_race;
#[path = "bin/mini_loop.rs"]
mod mini_loop;
#[path = "bin/one_at_a_time.rs"]
mod one_at_a_time;
#[path = "bin/runtime_table.rs"]
mod runtime_table;
#[path = "bin/ten_thousand_requests.rs"]
mod ten_thousand_requests;
#[path = "bin/two_loops.rs"]
mod two_loops;

/// A listing's heading, and how to run it at classroom size.
type Listing = support::report::Stop;

/// The listings in book order.
const LISTINGS: [Listing; 7] = [
    ("Listing 6.1: an event loop in one file", || {
        mini_loop::run(parse_from([
            "mini_loop",
            "--min-ms",
            "200",
            "--max-ms",
            "400",
        ]))
    }),
    ("Listing 6.2: the same tasks on every runtime", || {
        let sleeps = [
            "--min-ms",
            "200",
            "--max-ms",
            "400",
            "--scale-min-ms",
            "200",
        ];
        let scale = ["--scale-max-ms", "400", "--scale", "100000"];
        let args = ["runtime_table"].into_iter().chain(sleeps).chain(scale);
        runtime_table::run(parse_from(args))
    }),
    ("Listing 6.3: one task at a time", || {
        one_at_a_time::run(parse_from(["one_at_a_time"]))
    }),
    ("Listing 6.4: one loop, two loops", || {
        two_loops::run(parse_from(["two_loops", "--repeats", "3"]))
    }),
    ("Listing 6.5: gather, as_completed, wait_for", || {
        gather_and_race::run(parse_from(["gather_and_race"]))
    }),
    ("Listing 6.6: cancelling by dropping", || {
        cancel_by_drop::run(parse_from(["cancel_by_drop"]))
    }),
    ("Listing 6.7: 10,000 requests from one thread", || {
        ten_thousand_requests::run(parse_from(["ten_thousand_requests"]))
    }),
];

fn main() -> ExitCode {
    // Two listings run parts of themselves in a child process of this same
    // program: one runtime per process (peak memory is per process), and the
    // server side of 10,000 connections. Such a child goes straight there.
    match std::env::var(runtime_table::CHILD_ENV).as_deref() {
        Ok("runtime_table") => return runtime_table::run(parse()),
        Ok("ten_thousand_requests") => return ten_thousand_requests::run(parse()),
        _ => {}
    }
    println!("Chapter 6: the event loop");
    tour(6, &LISTINGS)
}
