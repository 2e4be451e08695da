//! A worker process costs tens of times a thread: to start, and in memory.
//!
//!     cargo run --release -p ch04 --bin process_spawn_cost -- --samples 200 --threads 100

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use support::child::Reaped;
use support::report::{Table, metric, verdict};
use support::timing::{Summary, current_rss_bytes, summarize};

/// Start trivial children and trivial threads, and compare what each costs.
#[derive(clap::Parser)]
pub struct Args {
    /// How many children, and how many threads, to start and wait for, one at a time.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(5..=10_000))]
    samples: u64,
    /// How many idle threads to start at once to measure the memory of one.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=2_000))]
    threads: u64,
    /// Run as a worker process instead (the listing starts itself this way).
    #[arg(long, hide = true)]
    worker: Option<Role>,
}

/// What a worker process does.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Role {
    /// End at once.
    Exit,
    /// Say "ready", then wait for stdin to close.
    Idle,
}

pub fn run(args: Args) -> ExitCode {
    match args.worker {
        Some(Role::Exit) => return ExitCode::SUCCESS,
        Some(Role::Idle) => return idle_worker(),
        None => {}
    }
    let samples = args.samples as usize;

    // ANCHOR: spawn
    // A worker process is this same program started again with `--worker`:
    // fork, exec, the dynamic loader, Rust's start-up, then exit and a wait.
    let process_us = time_us(samples, || {
        let status = worker("exit").status().expect("start a worker process");
        assert!(status.success(), "the worker failed: {status}");
    });
    // A thread shares the process: the kernel makes a task and a stack.
    let thread_us = time_us(samples, || {
        thread::spawn(|| black_box(1)).join().expect("the thread ran");
    });
    // ANCHOR_END: spawn

    // ANCHOR: memory
    // An idle worker's resident memory, read from /proc: all of it, and the
    // part that is its own (the rest is shared pages of the binary and libc).
    let mut idle =
        Reaped(worker("idle").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("start"));
    let mut ready = String::new();
    let stdout = idle.0.stdout.as_mut().expect("piped");
    BufReader::new(stdout).read_line(&mut ready).expect("read ready");
    let child_rss_kib = proc_kib(idle.0.id(), "status", "VmRSS:");
    let child_private_kib = proc_kib(idle.0.id(), "smaps_rollup", "Private_Clean:")
        + proc_kib(idle.0.id(), "smaps_rollup", "Private_Dirty:");
    drop(idle);
    // N idle threads at once: what the process's resident memory grew by, per thread.
    let (threads, gate) =
        (args.threads as usize, Arc::new(Barrier::new(args.threads as usize + 1)));
    let before = current_rss_bytes();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            thread::spawn({
                let gate = gate.clone();
                move || {
                    gate.wait();
                    gate.wait();
                }
            })
        })
        .collect();
    gate.wait(); // Every thread has started and touched its stack.
    let thread_kib = (current_rss_bytes().saturating_sub(before)) as f64 / 1024.0 / threads as f64;
    gate.wait();
    handles.into_iter().for_each(|h| h.join().expect("the thread ran"));
    // ANCHOR_END: memory

    // Other programs on the machine can only make a start slower: the best
    // of the samples is the cost itself, the median what a start usually took.
    let (process, thread) = (process_us, thread_us);
    let rows = [
        ("start and wait for, best", process.min, thread.min, "µs"),
        ("start and wait for, median", process.median, thread.median, "µs"),
        ("resident memory (RSS)", child_rss_kib, thread_kib, "KiB"),
        ("  of which its own", child_private_kib, thread_kib, "KiB"),
    ];
    let mut table = Table::new(["cost", "a process", "a thread", "ratio"]);
    for (cost, p, t, unit) in rows {
        let ratio = format!("{:.0}x", p / t.max(0.01));
        table.row([cost.to_string(), format!("{p:.0} {unit}"), format!("{t:.0} {unit}"), ratio]);
    }
    table.print();

    metric("process_spawn_us", process.min, "µs");
    metric("thread_spawn_us", thread.min, "µs");
    metric("process_spawn_median_us", process.median, "µs");
    metric("thread_spawn_median_us", thread.median, "µs");
    metric("spawn_ratio", process.min / thread.min, "x");
    metric("process_rss_kib", child_rss_kib, "KiB");
    metric("process_private_kib", child_private_kib, "KiB");
    metric("thread_rss_kib", thread_kib, "KiB");
    metric("memory_ratio", child_rss_kib / thread_kib.max(0.01), "x");

    let holds = process.min > 10.0 * thread.min && child_rss_kib > 10.0 * thread_kib;
    verdict(
        "a process costs more than ten times a thread, to start and in memory",
        holds,
        &format!(
            "best {:.0} µs vs {:.0} µs; {child_rss_kib:.0} KiB vs {thread_kib:.0} KiB",
            process.min, thread.min
        ),
    )
}

/// This program, started again as a worker (`support::child` has the convention).
fn worker(role: &str) -> Command {
    let mut command = support::child::command("process_spawn_cost");
    command.args(["--worker", role]).stdin(Stdio::null()).stdout(Stdio::null());
    command
}

fn idle_worker() -> ExitCode {
    println!("ready");
    // Block until the parent closes our stdin (or dies): an idle worker.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    ExitCode::SUCCESS
}

fn time_us(samples: usize, mut once: impl FnMut()) -> Summary {
    let times: Vec<f64> = (0..samples)
        .map(|_| {
            let started = Instant::now();
            once();
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    summarize(&times)
}

/// A `Name:   123 kB` line of /proc/<pid>/<file>, in KiB.
fn proc_kib(pid: u32, file: &str, name: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).expect("read /proc");
    let line = text.lines().find(|l| l.starts_with(name)).expect("the field is there");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number of kB")
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
