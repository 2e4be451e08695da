//! Spawning threads until the kernel refuses stops where the binding limit predicts (in a child).
//!
//!     cargo run --release -p ch03 --bin thread_ceiling

use std::process::{ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;

use support::report::{figure, verdict};

/// Start threads in a child process until spawning fails, then compare.
#[derive(clap::Parser)]
pub struct Args {
    /// The most threads the child may start. It also never takes more than
    /// two thirds of the tasks free (machine, user, cgroup), so others keep room.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1000..=100_000))]
    cap: u64,
    /// The child's part: start up to this many threads (the parent passes it).
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    probe: Option<u64>,
}

pub fn run(args: Args) -> ExitCode {
    if let Some(cap) = args.probe {
        return probe(cap);
    }
    // ANCHOR: cap
    // The tasks free on the machine, for this user and in this cgroup: the
    // child may take two thirds of the fewest, so other programs keep room.
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let number = |path: &str| read(path).trim().parse::<f64>().unwrap_or(f64::NAN);
    let loadavg = read("/proc/loadavg"); // "0.01 0.02 0.00 3/112 999": 112 tasks now
    let tasks: f64 = loadavg.split(['/', ' ']).nth(4).unwrap().parse().unwrap();
    let limits = read("/proc/self/limits");
    let nproc = limits.lines().find(|l| l.starts_with("Max processes"));
    let nproc = nproc.and_then(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok());
    // SAFETY: geteuid only reads this process's user id.
    let user_limited = unsafe { libc::geteuid() } != 0; // RLIMIT_NPROC does not bind root.
    let mut free = vec![number("/proc/sys/kernel/pid_max"), number("/proc/sys/kernel/threads-max")];
    free.extend(nproc.filter(|_| user_limited));
    // A cgroup (v2) may cap the tasks in it: systemd sessions and containers do.
    let cgroup = read("/proc/self/cgroup");
    if let Some(path) = cgroup.lines().find_map(|line| line.strip_prefix("0::")) {
        let pids = |file: &str| number(&format!("/sys/fs/cgroup{path}/pids.{file}"));
        free.push(pids("max") + tasks - pids("current")); // "max" (no limit) is NaN.
    }
    let free_tasks = free.into_iter().fold(f64::INFINITY, f64::min) - tasks; // min skips NaN.
    let cap = (args.cap as f64).min(free_tasks * 2.0 / 3.0) as u64;
    // ANCHOR_END: cap
    // ANCHOR: parent
    // The child is this same program (support::child). It reports one line per
    // thread started, so that the count survives even if the child dies at the
    // edge. A watchdog kills it if it has not ended after 30 s.
    let child = support::child::command("thread_ceiling")
        .args(["--probe", &cap.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let (pid, (ended, watch)) = (child.id() as libc::pid_t, mpsc::channel::<()>());
    let watchdog = thread::spawn(move || {
        if watch.recv_timeout(std::time::Duration::from_secs(30)).is_err() {
            // SAFETY: kill only sends a signal; the child is not reaped yet,
            // so its pid cannot have been reused.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let output = child.wait_with_output().expect("wait for the child"); // Reads both pipes.
    drop(ended);
    watchdog.join().unwrap();
    // The last line that starts with `key` holds the latest count of its kind.
    let report = String::from_utf8_lossy(&output.stdout);
    let value = |key: &str| {
        let line = report.lines().rev().find(|l| l.starts_with(key));
        line.and_then(|l| l[key.len()..].trim().parse::<f64>().ok()).unwrap_or(f64::NAN)
    };
    // The maps each thread adds, measured past the first thousand threads
    // (which also create glibc's malloc arenas), predict where the maps run out.
    let map_max = number("/proc/sys/vm/max_map_count");
    let at_2000 = value("maps at 2000");
    let maps_each = (at_2000 - value("maps at 1000")) / 1000.0;
    let predicted = 2000.0 + ((map_max - at_2000) / maps_each).floor();
    let started = value("started");
    // ANCHOR_END: parent
    figure("maps_each", maps_each, "maps");
    figure("started", started, "threads");
    figure("predicted", predicted, "threads");

    println!("cap: {cap} threads (at most two thirds of the {free_tasks:.0} tasks free)");
    println!("the child started {started} threads, then:");
    // ANCHOR: edge
    // How the child stopped: an `Err` it reported, its cap, or a signal (see its stderr).
    match report.lines().find(|l| l.starts_with("error")) {
        Some(error) => println!("  thread::Builder::spawn returned Err: {}", &error[6..]),
        None if started as u64 >= cap => println!("  it reached the cap without an error"),
        None => {
            let last_words = String::from_utf8_lossy(&output.stderr);
            let why = last_words.lines().find(|l| l.contains("failed"));
            println!("  it was ended by {}:\n    {}", output.status, why.unwrap_or("-"));
        }
    }
    // ANCHOR_END: edge
    println!("memory maps: {at_2000} with 2000 threads, {maps_each:.2} more per thread");
    println!("predicted: 2000 + ({map_max} - {at_2000}) / {maps_each:.2} = {predicted} threads");
    // Either the maps ran out where predicted, or the cap came first: then
    // the limit is shared with other programs, and is not to be reached.
    let capped = started as u64 == cap && predicted > started;
    verdict(
        "threads run out where vm.max_map_count predicts (or past a safe cap), far above 10,000",
        started > 10_000.0 && ((started - predicted).abs() <= 0.01 * predicted || capped),
        &format!("{started} threads started, {predicted} predicted"),
    )
}

// ANCHOR: probe
/// The child: start parked threads one at a time until `cap` or an error.
/// Returning from `main` then ends the process, and every thread with it.
fn probe(cap: u64) -> ExitCode {
    let maps = || std::fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count());
    let (ready, started) = mpsc::channel();
    for count in 1..=cap {
        let ready = ready.clone();
        let spawned = thread::Builder::new().spawn(move || {
            ready.send(()).unwrap(); // By now its stack and signal stack are mapped.
            loop {
                thread::park(); // Parked for good: the process's exit ends it.
            }
        });
        if let Err(error) = spawned {
            println!("error {error}");
            break;
        }
        started.recv().unwrap();
        println!("started {count}");
        if count == 1000 || count == 2000 {
            println!("maps at {count} {}", maps());
        }
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: probe

fn main() -> ExitCode {
    run(support::cli::parse())
}
