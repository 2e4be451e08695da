//! The tour of chapter 8: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch08

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use support::cli::parse_from;
use support::report::tour;

#[path = "bin/chess_exhibition.rs"]
mod chess_exhibition;
#[path = "bin/cpu_every_model.rs"]
mod cpu_every_model;
#[path = "bin/green_both_jobs.rs"]
mod green_both_jobs;
#[path = "bin/io_at_scale.rs"]
mod io_at_scale;
#[path = "bin/io_every_model.rs"]
mod io_every_model;

/// A listing's heading in the tour, and how the tour runs it.
type Listing = support::report::Stop;

/// The listings in book order; each runs with its defaults, the book's sizes.
const LISTINGS: [Listing; 5] = [
    ("Listing 8.1: a chess exhibition, on a scaled clock", || {
        chess_exhibition::run(parse_from(["chess_exhibition"]))
    }),
    ("Listing 8.2: the CPU-bound job on every model", || {
        cpu_every_model::run(parse_from(["cpu_every_model"]))
    }),
    ("Listing 8.3: the I/O-bound job on every model", || {
        io_every_model::run(parse_from(["io_every_model"]))
    }),
    ("Listing 8.4: both jobs on green threads", || {
        green_both_jobs::run(parse_from(["green_both_jobs"]))
    }),
    ("Listing 8.5: 40 and 10,000 concurrent requests", || {
        io_at_scale::run(parse_from(["io_at_scale"]))
    }),
];

/// Some listings start child processes by running their own binary again,
/// with their name as `argv[0]` and `--worker` or `--child`. Inside the tour
/// that binary is this one: hand the child to the listing it belongs to.
fn run_child(args: Vec<OsString>) -> Option<ExitCode> {
    if !args.iter().any(|arg| arg == "--worker" || arg == "--child") {
        return None;
    }
    let name = Path::new(args.first()?).file_name()?.to_str()?.to_owned();
    Some(match name.as_str() {
        "cpu_every_model" => cpu_every_model::run(parse_from(args)),
        "io_every_model" => io_every_model::run(parse_from(args)),
        "io_at_scale" => io_at_scale::run(parse_from(args)),
        _ => return None,
    })
}

fn main() -> ExitCode {
    if let Some(code) = run_child(std::env::args_os().collect()) {
        return code;
    }
    println!("Chapter 8: choosing, the same work on every model");
    tour(8, &LISTINGS)
}
