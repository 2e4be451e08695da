//! The tour of chapter 1: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch01

use std::process::ExitCode;

use support::cli::parse_from;
use support::report::tour;

#[path = "bin/blocking_fetch.rs"]
mod blocking_fetch;
#[path = "bin/cost_of_waiting.rs"]
mod cost_of_waiting;
#[path = "bin/fetch_and_save.rs"]
mod fetch_and_save;
#[path = "bin/fetch_and_save_callbacks.rs"]
mod fetch_and_save_callbacks;
#[path = "bin/nonblocking_socket.rs"]
mod nonblocking_socket;
#[path = "bin/readiness_fetch.rs"]
mod readiness_fetch;

/// A listing's heading, and how to run it with its defaults, the book's sizes.
type Listing = support::report::Stop;

/// The listings in book order.
const LISTINGS: [Listing; 6] = [
    ("Listing 1.1: the cost of waiting", || {
        cost_of_waiting::run(parse_from(["cost_of_waiting"]))
    }),
    ("Listing 1.2: blocking fetches", || {
        blocking_fetch::run(parse_from(["blocking_fetch"]))
    }),
    ("Listing 1.3: a non-blocking socket", || {
        nonblocking_socket::run(parse_from(["nonblocking_socket"]))
    }),
    ("Listing 1.4: many fetches, one thread, one poller", || {
        readiness_fetch::run(parse_from(["readiness_fetch"]))
    }),
    ("Listing 1.5: fetch and save, blocking", || {
        fetch_and_save::run(parse_from(["fetch_and_save"]))
    }),
    ("Listing 1.6: fetch and save, with callbacks", || {
        fetch_and_save_callbacks::run(parse_from(["fetch_and_save_callbacks"]))
    }),
];

fn main() -> ExitCode {
    println!("Chapter 1: blocking vs non-blocking I/O");
    tour(1, &LISTINGS)
}
