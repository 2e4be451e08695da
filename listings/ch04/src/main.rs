//! The tour of chapter 4: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch04

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use support::cli::parse_from;
use support::report::tour;

#[path = "bin/cpu_in_processes.rs"]
mod cpu_in_processes;
#[path = "bin/crash_isolation.rs"]
mod crash_isolation;
#[path = "bin/fd_across_processes.rs"]
mod fd_across_processes;
#[path = "bin/io_in_processes.rs"]
mod io_in_processes;
#[path = "bin/pipe_serialization.rs"]
mod pipe_serialization;
#[path = "bin/process_pool.rs"]
mod process_pool;
#[path = "bin/process_spawn_cost.rs"]
mod process_spawn_cost;

/// A listing's heading in the tour, and how the tour runs it.
type Listing = support::report::Stop;

/// The listings in book order; each runs with its defaults, the book's sizes.
const LISTINGS: [Listing; 7] = [
    ("Listing 4.1: what a process costs, next to a thread", || {
        process_spawn_cost::run(parse_from(["process_spawn_cost"]))
    }),
    ("Listing 4.2: CPU-bound work in threads and in processes", || {
        cpu_in_processes::run(parse_from(["cpu_in_processes"]))
    }),
    ("Listing 4.3: I/O-bound work in threads and in processes", || {
        io_in_processes::run(parse_from(["io_in_processes"]))
    }),
    ("Listing 4.4: data across a pipe, as JSON", || {
        pipe_serialization::run(parse_from(["pipe_serialization"]))
    }),
    ("Listing 4.5: an open file does not cross", || {
        fd_across_processes::run(parse_from(["fd_across_processes"]))
    }),
    ("Listing 4.6: a crashing worker, seen from its parent", || {
        crash_isolation::run(parse_from(["crash_isolation"]))
    }),
    ("Listing 4.7: a pool of worker processes that restarts the dead", || {
        process_pool::run(parse_from(["process_pool"]))
    }),
];

/// The listings start their worker processes by running their own binary
/// again, with their name as `argv[0]` and `--worker`. Inside the tour that
/// binary is this one: hand the worker to the listing it belongs to.
fn run_worker(args: Vec<OsString>) -> Option<ExitCode> {
    if !args.iter().any(|arg| arg == "--worker") {
        return None;
    }
    let name = Path::new(args.first()?).file_name()?.to_str()?.to_owned();
    Some(match name.as_str() {
        "process_spawn_cost" => process_spawn_cost::run(parse_from(args)),
        "cpu_in_processes" => cpu_in_processes::run(parse_from(args)),
        "io_in_processes" => io_in_processes::run(parse_from(args)),
        "pipe_serialization" => pipe_serialization::run(parse_from(args)),
        "fd_across_processes" => fd_across_processes::run(parse_from(args)),
        "crash_isolation" => crash_isolation::run(parse_from(args)),
        "process_pool" => process_pool::run(parse_from(args)),
        _ => return None,
    })
}

fn main() -> ExitCode {
    if let Some(code) = run_worker(std::env::args_os().collect()) {
        return code;
    }
    println!("Chapter 4: processes");
    tour(4, &LISTINGS)
}
