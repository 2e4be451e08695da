//! spawn_blocking outlives shutdown_timeout/_background; drop waits, a flag stops it; exit ends it.
//!
//!     cargo run --release -p ch07 --bin outliving_threads -- --task-ms 300

use std::io::{BufRead, BufReader};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::child::Reaped;
use support::report::{Table, figure, verdict};
use support::timing::ms;
use tokio::runtime::Builder;

/// Shut a runtime down four ways while a blocking task runs, then exit a process with one running.
#[derive(clap::Parser)]
pub struct Args {
    /// How long the blocking task runs if nobody stops it, in milliseconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    task_ms: u64,
    /// Run as the child process that exits with threads still running (used by the listing itself).
    #[arg(long, hide = true)]
    worker: bool,
}

// ANCHOR: export
/// What the blocking task shares with the code that started it.
#[derive(Default)]
struct Export {
    steps: AtomicU64,
    stop: AtomicBool,
    done: AtomicBool,
}

/// A blocking export in 5 ms steps (a stand-in for writing a report row by
/// row). It checks `stop` between steps: a blocking task cannot be cancelled
/// from outside, only asked to stop.
fn export_report(export: &Export, length: Duration) {
    let started = Instant::now();
    while started.elapsed() < length && !export.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(5));
        export.steps.fetch_add(1, Ordering::Relaxed);
    }
    export.done.store(true, Ordering::Relaxed);
}
// ANCHOR_END: export

// ANCHOR: shutdown
/// Starts the export, lets it run 50 ms, shuts the runtime down `how`; returns
/// how long the shutdown took and whether the export was still running after it.
fn shut_down(how: &str, length: Duration) -> (Duration, bool) {
    let runtime = Builder::new_multi_thread().worker_threads(1).build().unwrap();
    let export = Arc::new(Export::default());
    let task = export.clone();
    runtime.spawn_blocking(move || export_report(&task, length));
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now(); // measuring
    match how {
        "drop" => drop(runtime), // Waits for every blocking task to end.
        "timeout" => runtime.shutdown_timeout(Duration::from_millis(50)),
        "background" => runtime.shutdown_background(), // Waits for nothing.
        "stop_flag" => {
            export.stop.store(true, Ordering::Relaxed); // Ask first, then wait.
            drop(runtime);
        }
        other => unreachable!("no shutdown named {other}"),
    }
    let took = started.elapsed(); // measuring
    let steps = export.steps.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(30));
    let still_running = export.steps.load(Ordering::Relaxed) > steps;
    // Wait (bounded) for a detached export to end, so none outlives this call.
    let deadline = Instant::now() + length * 2;
    while !export.done.load(Ordering::Relaxed) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    (took, still_running)
}
// ANCHOR_END: shutdown

// ANCHOR: worker
/// The child: starts a blocking task and a plain thread that never end, and
/// returns from main. Rust does not wait for them: exiting ends the process.
fn worker() -> ExitCode {
    let runtime = Builder::new_current_thread().build().unwrap();
    runtime.spawn_blocking(|| export_report(&Export::default(), Duration::MAX));
    std::thread::spawn(|| export_report(&Export::default(), Duration::MAX));
    runtime.shutdown_background();
    println!("threads started");
    ExitCode::SUCCESS
}

/// Runs the child and returns how long it took to exit after it said it started.
fn child_exit_time() -> Duration {
    // This program again, as a worker: support::child has the convention.
    let mut command = support::child::command("outliving_threads");
    let child = command.arg("--worker").stdout(Stdio::piped()).stderr(Stdio::null()).spawn();
    let mut child = Reaped(child.expect("start the child")); // Killed if alive after 5 s.
    let stdout = child.0.stdout.take().expect("piped");
    BufReader::new(stdout).read_line(&mut String::new()).expect("read the child's line");
    let started = Instant::now();
    while child.0.try_wait().expect("poll").is_none() && started.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    started.elapsed()
}
// ANCHOR_END: worker

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        return worker();
    }
    let mut table = Table::new(["shutdown", "returned after", "export still running after it"]);
    let [dropped, timed_out, background, flagged] = [
        ("drop", "drop(runtime)"),
        ("timeout", "shutdown_timeout(50 ms)"),
        ("background", "shutdown_background()"),
        ("stop_flag", "stop flag, then drop(runtime)"),
    ]
    .map(|(how, label)| {
        let (took, running) = shut_down(how, Duration::from_millis(args.task_ms));
        let took = figure(&format!("{how}_ms"), ms(took), "ms");
        table.cells(&format!("{label}|{took:.0}|{}", if running { "yes" } else { "no" }));
        (took, running)
    });
    table.print();
    let child_ms = figure("child_exit_ms", ms(child_exit_time()), "ms");
    println!("a process returning from main with two endless threads exited {child_ms:.1} later");

    let remaining = args.task_ms as f64 - 50.0;
    let waited = dropped.0.value >= 0.7 * remaining && !dropped.1;
    let left_running = timed_out.1 && background.1 && background.0.value < 0.2 * remaining;
    let stopped = flagged.0.value < 0.5 * remaining && !flagged.1;
    verdict(
        "drop waits for a blocking task, shutdown_timeout and shutdown_background leave it running, a stop flag ends it; process exit ends every thread",
        waited && left_running && stopped && child_ms.value < 1000.0,
        &format!(
            "drop waited {:.0}, the stop flag {:.0}; the child exited {child_ms:.1} after its main returned",
            dropped.0, flagged.0
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
