//! The tour of chapter 2: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch02
//!
//! The two compile-fail listings are not run: their lesson is the compiler's
//! message, which `cargo xtask measure ch02` records and the book shows.

use std::process::ExitCode;

use ch02::interpreter_lock;
use support::cli::parse_from;
use support::report::tour;

#[path = "bin/convoy.rs"]
mod convoy;
#[path = "bin/cpu_threads.rs"]
mod cpu_threads;
#[path = "bin/io_threads.rs"]
mod io_threads;
#[path = "bin/shared_counter.rs"]
mod shared_counter;

/// A listing's heading, and how to run it.
type Listing = support::report::Stop;

/// The listings in book order; each runs with its defaults, the book's sizes.
const LISTINGS: [Listing; 5] = [
    (
        "Listing 2.1: an interpreter lock, threads taking turns",
        || interpreter_lock::run(parse_from(["interpreter_lock"])),
    ),
    (
        "Listing 2.2: CPU-bound threads, with and without the lock",
        || cpu_threads::run(parse_from(["cpu_threads"])),
    ),
    (
        "Listing 2.3: I/O-bound threads release the lock while they wait",
        || io_threads::run(parse_from(["io_threads"])),
    ),
    ("Listing 2.4: the convoy effect", || {
        convoy::run(parse_from(["convoy"]))
    }),
    ("Listing 2.7: sharing without a global lock", || {
        shared_counter::run(parse_from(["shared_counter"]))
    }),
];

fn main() -> ExitCode {
    println!("Chapter 2: the GIL, and its analogue in Rust");
    tour(2, &LISTINGS)
}
