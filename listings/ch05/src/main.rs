//! The tour of chapter 5: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch05

use std::process::ExitCode;

use support::cli::parse_from;
use support::report::tour;

#[path = "bin/cooperative_hog.rs"]
mod cooperative_hog;
#[path = "bin/coroutine_cost.rs"]
mod coroutine_cost;
#[path = "bin/future_by_hand.rs"]
mod future_by_hand;
#[path = "bin/future_size.rs"]
mod future_size;
#[path = "bin/green_threads.rs"]
mod green_threads;
#[path = "bin/ticker_generator.rs"]
mod ticker_generator;

/// A listing's heading, and how to run it with its defaults, the book's sizes.
type Listing = support::report::Stop;

/// The listings in book order.
const LISTINGS: [Listing; 6] = [
    ("Listing 5.1: a generator and a coroutine, by hand", || {
        ticker_generator::run(parse_from(["ticker_generator"]))
    }),
    ("Listing 5.2: a Future by hand, and as an async fn", || {
        future_by_hand::run(parse_from(["future_by_hand"]))
    }),
    ("Listing 5.3: what an async fn compiles to", || {
        future_size::run(parse_from(["future_size"]))
    }),
    ("Listing 5.4: what a coroutine costs", || {
        coroutine_cost::run(parse_from(["coroutine_cost"]))
    }),
    ("Listing 5.5: cooperative means cooperative", || {
        cooperative_hog::run(parse_from(["cooperative_hog"]))
    }),
    ("Listing 5.6: stackful coroutines: green threads", || {
        green_threads::run(parse_from(["green_threads"]))
    }),
];

fn main() -> ExitCode {
    println!("Chapter 5: coroutines");
    tour(5, &LISTINGS)
}
