//! The convoy effect: next to a CPU-bound thread, each I/O costs about one switch interval.
//!
//!     cargo run --release -p ch02 --bin convoy -- --ops 40 --intervals-ms 1,5,20

use std::net::SocketAddr;
use std::sync::{atomic::AtomicBool, atomic::Ordering::Relaxed, mpsc};
use std::{process::ExitCode, thread, time::Duration, time::Instant};

use ch02::fetch::fetch_page;
use ch02::interpreter_lock::InterpreterLock;
use ch02::work::run_bytecodes;
use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
use support::timing::{ms, summarize};

/// Time an I/O thread's round trips, alone and next to a CPU-bound thread.
#[derive(clap::Parser)]
pub struct Args {
    /// Requests the I/O thread makes, one after another, per row.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    ops: u64,
    /// The simulated API's latency per request, in milliseconds.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=1000))]
    latency_ms: u64,
    /// Switch intervals to try, in milliseconds, comma-separated.
    #[arg(long, default_values_t = [1, 5, 20], value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=200))]
    intervals_ms: Vec<u64>,
}

// ANCHOR: convoy
/// The I/O thread makes `ops` requests one after another, each inside
/// `blocking_io`, and times how long it waits to get the lock back after
/// each answer. With `busy`, a CPU-bound thread runs meanwhile and only
/// gives the lock up when asked, at the switch interval.
fn io_next_to(api: SocketAddr, ops: u64, interval: Duration, busy: bool) -> (Duration, Vec<f64>) {
    let (lock, done) = (InterpreterLock::new(interval), AtomicBool::new(false));
    let (holding, started) = mpsc::channel();
    thread::scope(|scope| {
        if busy {
            scope.spawn(|| {
                let mut interpreter = lock.acquire();
                holding.send(()).unwrap();
                // It computes until the I/O thread is done.
                for unit in (0..).take_while(|_| !done.load(Relaxed)) {
                    interpreter.checkpoint();
                    std::hint::black_box(run_bytecodes(1000, unit));
                }
            });
            // Start once the CPU-bound thread holds the lock: a new thread
            // may wait a while for a CPU on a busy machine.
            started.recv().unwrap();
        }
        let started = Instant::now();
        let mut interpreter = lock.acquire();
        let mut waits = Vec::new();
        for page in 1..=ops {
            // The answer is in when the closure returns; `blocking_io` then
            // waits for the lock, and that wait is what this times.
            let answered = interpreter.blocking_io(|| {
                fetch_page(api, page).expect("fetch a page");
                Instant::now()
            });
            waits.push(ms(answered.elapsed()));
            // Handling the answer is interpreted work: it needs the lock.
            std::hint::black_box(run_bytecodes(10_000, page));
        }
        drop(interpreter);
        done.store(true, Relaxed);
        (started.elapsed(), waits)
    })
}
// ANCHOR_END: convoy

pub fn run(args: Args) -> ExitCode {
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the server");
    let mut table = Table::new(["next to", "interval", "requests/s", "median wait", "slowest"]);
    let mut row = |interval_ms: u64, busy: bool, name: &str| {
        let interval = Duration::from_millis(interval_ms);
        let (wall, waits) = io_next_to(server.addr(), args.ops, interval, busy);
        let waited = summarize(&waits);
        let wait = figure(&format!("wait_ms_{name}"), waited.median, "ms");
        let rate = args.ops as f64 / wall.as_secs_f64();
        let rate = figure(&format!("requests_per_s_{name}"), rate, "requests/s");
        let next_to = if busy { "a CPU-bound thread" } else { "nothing" };
        table.cells(&format!("{next_to}|{interval_ms} ms|{rate:#.0}|{wait}|{:.2} ms", waited.max));
        (rate.value, wait.value)
    };
    // One row with the lock to itself, then one per interval next to a CPU-bound thread.
    let (alone_rate, alone_wait) = row(5, false, "alone");
    figure("wait_us_alone", 1e3 * alone_wait, "µs");
    let mut busy_waits = Vec::new();
    for &interval_ms in &args.intervals_ms {
        let (rate, wait) = row(interval_ms, true, &format!("{interval_ms}ms"));
        figure(&format!("slowdown_{interval_ms}ms"), alone_rate / rate, "x");
        busy_waits.push((interval_ms as f64, wait));
    }
    drop(server);
    table.print();

    // Alone, the lock is free when the I/O returns. Next to a busy thread,
    // the I/O thread must wait a whole interval before it may even ask, so
    // no wait is shorter than the interval; how much longer depends on how
    // soon the OS runs the waiting thread, which a busy machine delays.
    busy_waits.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (briefest, longest) = (busy_waits[0], busy_waits[busy_waits.len() - 1]);
    let free_when_alone = alone_wait < 0.25 * briefest.0;
    let at_least_an_interval = busy_waits.iter().all(|&(interval, wait)| wait >= 0.8 * interval);
    let grows = longest.0 < 2.0 * briefest.0 || longest.1 > 2.0 * briefest.1;
    let next_to: Vec<_> =
        busy_waits.iter().map(|(i, w)| format!("{w:.2} ms at {i:.0} ms")).collect();
    let claim = "next to a CPU-bound thread, every I/O costs the I/O thread at least one switch interval of waiting for the lock";
    let evidence =
        format!("median wait alone {alone_wait:.2} ms; next to it {}", next_to.join(", "));
    verdict(claim, free_when_alone && at_least_an_interval && grows, &evidence)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
