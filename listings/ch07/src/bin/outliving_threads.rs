//! A `spawn_blocking` task outlives `shutdown_timeout` and `shutdown_background`, and plain `drop` waits for it; a stop flag ends it cleanly, and no thread outlives the process.
//!
//!     cargo run --release -p ch07 --bin outliving_threads -- --task-ms 300

use std::io::{BufRead, BufReader};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::report::{Table, metric, verdict};
use tokio::runtime::{Builder, Runtime};

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

/// What the blocking task shares with the code that started it.
#[derive(Default)]
struct Export {
    steps: AtomicU64,
    stop: AtomicBool,
    done: AtomicBool,
}

// ANCHOR: export
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

#[derive(Clone, Copy)]
enum Shutdown {
    Drop,
    Timeout,
    Background,
    StopFlag,
}

/// Starts the export, lets it run 50 ms, shuts the runtime down; returns how
/// long the shutdown took and whether the export was still running after it.
fn shut_down(how: Shutdown, length: Duration) -> (Duration, bool) {
    let runtime: Runtime = Builder::new_multi_thread().worker_threads(1).build().unwrap();
    let export = Arc::new(Export::default());
    let task = export.clone();
    runtime.spawn_blocking(move || export_report(&task, length));
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    // ANCHOR: shutdown
    match how {
        Shutdown::Drop => drop(runtime), // Waits for every blocking task to end.
        Shutdown::Timeout => runtime.shutdown_timeout(Duration::from_millis(50)),
        Shutdown::Background => runtime.shutdown_background(), // Waits for nothing.
        Shutdown::StopFlag => {
            export.stop.store(true, Ordering::Relaxed); // Ask first, then wait.
            drop(runtime);
        }
    }
    // ANCHOR_END: shutdown
    let took = started.elapsed();
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
// ANCHOR_END: worker

/// Runs the child and returns how long it took to exit after it said it started.
fn child_exit_time() -> Duration {
    // This program again, as a worker: support::child has the convention.
    let mut child = support::child::command("outliving_threads")
        .arg("--worker")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout).read_line(&mut line).expect("read the child's line");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(5);
    while child.try_wait().expect("poll the child").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let took = started.elapsed();
    let _ = child.kill(); // On every path: a child still alive after 5 s is killed.
    child.wait().expect("reap the child");
    took
}

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        return worker();
    }
    let length = Duration::from_millis(args.task_ms);
    let mut table = Table::new(["shutdown", "returned after", "export still running after it"]);
    let mut rows = Vec::new();
    for (how, label, name) in [
        (Shutdown::Drop, "drop(runtime)", "drop"),
        (Shutdown::Timeout, "shutdown_timeout(50 ms)", "timeout"),
        (Shutdown::Background, "shutdown_background()", "background"),
        (Shutdown::StopFlag, "stop flag, then drop(runtime)", "stop_flag"),
    ] {
        let (took, running) = shut_down(how, length);
        let ms = took.as_secs_f64() * 1e3;
        table.row([
            label.to_string(),
            format!("{ms:.0} ms"),
            if running { "yes" } else { "no" }.to_string(),
        ]);
        metric(&format!("{name}_ms"), ms, "ms");
        rows.push((ms, running));
    }
    table.print();
    let child_ms = child_exit_time().as_secs_f64() * 1e3;
    println!(
        "a process that returned from main with two endless threads exited {child_ms:.1} ms later"
    );
    metric("child_exit_ms", child_ms, "ms");

    let remaining = args.task_ms as f64 - 50.0;
    let [
        (dropped, drop_running),
        (_, timeout_running),
        (background, background_running),
        (flagged, flag_running),
    ] = rows[..]
    else {
        unreachable!("four rows")
    };
    let holds = dropped >= 0.7 * remaining
        && !drop_running
        && timeout_running
        && background_running
        && background < 0.2 * remaining
        && flagged < 0.5 * remaining
        && !flag_running
        && child_ms < 1000.0;
    verdict(
        "drop waits for a blocking task, shutdown_timeout and shutdown_background leave it running, a stop flag ends it; process exit ends every thread",
        holds,
        &format!(
            "drop waited {dropped:.0} ms, the stop flag {flagged:.0} ms; the child exited {child_ms:.1} ms after its main returned"
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
