//! Under the interpreter lock, threads waiting on I/O still overlap: it is freed while they wait.
//!
//!     cargo run --release -p ch02 --bin io_threads -- --threads 10 --latency-ms 50

use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use ch02::fetch::fetch_page;
use ch02::interpreter_lock::InterpreterLock;
use ch02::work::{run_bytecodes, units_for};
use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
use support::timing::{ms, summarize};

/// Fetch pages on many threads that share the interpreter lock.
#[derive(clap::Parser)]
pub struct Args {
    /// Threads, each fetching one page and then parsing it.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=200))]
    threads: u64,
    /// The simulated API's latency per request, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=2000))]
    latency_ms: u64,
    /// CPU time each thread spends parsing its page under the lock, in milliseconds.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=100))]
    parse_ms: u64,
    /// Times to run both ways, interleaved; the table shows medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
    repeats: u64,
}

// ANCHOR: fetch_all
/// Every thread takes the lock, fetches one page, then parses it: the
/// "interpreted" part, which needs the lock. With `release_during_io`, the
/// fetch runs inside `blocking_io`, as CPython's socket calls do; without
/// it, the lock stays held while the thread waits, so nobody else runs.
fn fetch_all(
    server: SocketAddr,
    threads: u64,
    parse_units: u64,
    release_during_io: bool,
) -> (f64, u64) {
    let lock = InterpreterLock::new(Duration::from_millis(5));
    let started = Instant::now();
    thread::scope(|scope| {
        for page in 1..=threads {
            let lock = &lock;
            scope.spawn(move || {
                let mut interpreter = lock.acquire();
                let body = match release_during_io {
                    true => interpreter.blocking_io(|| fetch_page(server, page)),
                    false => fetch_page(server, page),
                };
                let body = body.expect("fetch a page");
                for unit in 0..parse_units {
                    interpreter.checkpoint();
                    std::hint::black_box(run_bytecodes(1000, unit ^ body.len() as u64));
                }
            });
        }
    });
    (ms(started.elapsed()), lock.stats().handovers)
}
// ANCHOR_END: fetch_all

pub fn run(args: Args) -> ExitCode {
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the server");
    let parse_units = units_for(Duration::from_millis(args.parse_ms));
    let (mut released, mut held, mut handovers) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.repeats {
        let (wall, stats) = fetch_all(server.addr(), args.threads, parse_units, true);
        released.push(wall);
        handovers.push(stats as f64);
        held.push(fetch_all(server.addr(), args.threads, parse_units, false).0);
    }
    drop(server);

    let released = figure("released_ms", summarize(&released).median, "ms");
    let held = figure("held_ms", summarize(&held).median, "ms");
    figure("handovers", summarize(&handovers).median, "");
    let (n, latency, parse) = (args.threads as f64, args.latency_ms as f64, args.parse_ms as f64);
    // Waits that overlap cost one latency; the parsing still takes turns.
    let overlapped = figure("overlapped_ms", latency + n * parse, "ms");
    let one_by_one = figure("one_by_one_ms", n * (latency + parse), "ms");
    let mut table = Table::new(["during I/O the lock is", "wall", "expected", "because"]);
    let rows = [
        ("released (blocking_io)", released, overlapped, "one latency, then the parses take turns"),
        ("held", held, one_by_one, "every fetch and parse, one after another"),
    ];
    for (how, wall, expected, because) in rows {
        table.cells(&format!("{how}|{wall:.0}|{expected:.0}|{because}"));
    }
    table.print();
    let speedup = figure("speedup", held.value / released.value, "x");
    println!(
        "\nreleasing the lock around I/O made the {n} threads {speedup:.1} faster than holding it"
    );

    verdict(
        "with the lock released around I/O, the waits overlap; held, they add up",
        args.threads < 2 || (released.value < 0.5 * held.value && held.value >= 0.9 * n * latency),
        &format!("{n} threads, {latency:.0} ms latency: {released:.0} released, {held:.0} held"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
