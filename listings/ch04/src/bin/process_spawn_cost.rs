//! A worker process costs tens of times a thread: to start, and in memory.
//!
//!     cargo run --release -p ch04 --bin process_spawn_cost -- --samples 200 --threads 100

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitCode, Stdio};

use support::report::{Table, figure, verdict};
use support::timing::{current_rss_bytes, proc_kib, summarize, time, us};

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

// ANCHOR: spawn
/// What a worker process does: end at once, or stay idle.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Role {
    Exit,
    Idle,
}

/// The worker's side. An idle worker blocks until the parent closes its stdin (or dies).
fn work(role: Role) -> ExitCode {
    if let Role::Idle = role {
        println!("ready");
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    }
    ExitCode::SUCCESS
}

/// This program again, as a worker with nothing to read or print.
fn worker(role: &str) -> Command {
    let mut command = support::child::command("process_spawn_cost");
    command.args(["--worker", role]).stdin(Stdio::null()).stdout(Stdio::null());
    command
}

/// A worker process is this same program started again with `--worker`:
/// fork, exec, the dynamic loader, Rust's start-up, then exit and a wait.
fn start_process() {
    let status = worker("exit").status().expect("start a worker process");
    assert!(status.success(), "the worker failed: {status}");
}

/// A thread shares the process: the kernel makes a task and a stack.
fn start_thread() {
    std::thread::spawn(|| std::hint::black_box(1)).join().expect("the thread ran");
}
// ANCHOR_END: spawn

// ANCHOR: memory
/// An idle worker's resident memory from /proc, in KiB: all of it, and the part that is its own.
fn idle_process_kib() -> (f64, f64) {
    let spawned = worker("idle").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let mut idle = support::child::Reaped(spawned.expect("start"));
    let stdout = idle.0.stdout.as_mut().expect("piped");
    BufReader::new(stdout).read_line(&mut String::new()).expect("read \"ready\"");
    let kib = |file, field| proc_kib(&idle.0.id().to_string(), file, field) as f64;
    let own = kib("smaps_rollup", "Private_Clean:") + kib("smaps_rollup", "Private_Dirty:");
    (kib("status", "VmRSS:"), own)
}

/// What the process's resident memory grew by with `threads` idle threads, in KiB per thread.
fn idle_thread_kib(threads: usize) -> f64 {
    let (gate, before) = (std::sync::Barrier::new(threads + 1), current_rss_bytes());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                gate.wait();
                gate.wait();
            });
        }
        gate.wait(); // Every thread has started and touched its stack.
        let grown = current_rss_bytes().saturating_sub(before);
        gate.wait();
        grown as f64 / 1024.0 / threads as f64
    })
}
// ANCHOR_END: memory

pub fn run(args: Args) -> ExitCode {
    if let Some(role) = args.worker {
        return work(role);
    }
    // Other programs can only slow a start: the best is its cost, the median what one usually took.
    let [process, thread] = [start_process as fn(), start_thread]
        .map(|once| summarize(&(0..args.samples).map(|_| us(time(once).1)).collect::<Vec<_>>()));
    let ((rss, own), thread_kib) = (idle_process_kib(), idle_thread_kib(args.threads as usize));
    let mut table = Table::new(["cost", "a process", "a thread", "ratio"]);
    let mut row = |cost, [p, t]: [&str; 2], [of_p, of_t]: [f64; 2], unit| {
        let (p, t) = (figure(p, of_p, unit), figure(t, of_t, unit));
        table.cells(&format!("{cost}|{p:.0}|{t:.0}|{:.0}x", p.value / t.value.max(0.01)));
    };
    row("start, best", ["process_spawn_us", "thread_spawn_us"], [process.min, thread.min], "µs");
    let names = ["process_spawn_median_us", "thread_spawn_median_us"];
    row("start, median", names, [process.median, thread.median], "µs");
    row("resident memory (RSS)", ["process_rss_kib", "thread_rss_kib"], [rss, thread_kib], "KiB");
    row("  of which its own", ["process_private_kib", "thread_rss_kib"], [own, thread_kib], "KiB");
    table.print();
    let spawn_ratio = figure("spawn_ratio", process.min / thread.min, "x");
    let memory_ratio = figure("memory_ratio", rss / thread_kib.max(0.01), "x");
    let claim = "a process costs more than ten times a thread, to start and in memory";
    let evidence = format!("{spawn_ratio:.0} to start, {memory_ratio:.0} in memory");
    verdict(claim, spawn_ratio.value > 10.0 && memory_ratio.value > 10.0, &evidence)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
