//! A process pool survives a job that kills its worker: it restarts it; every other result arrives.
//!
//!     cargo run --release -p ch04 --bin process_pool -- --workers 2 --jobs 12 --crash-job 7

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdout, ExitCode, Stdio};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use support::child::Reaped;
use support::report::{Table, figure, verdict};

/// Run jobs on a small pool of worker processes; one job crashes its worker.
#[derive(clap::Parser)]
pub struct Args {
    /// Worker processes in the pool.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    workers: u64,
    /// Jobs to run; job N counts the primes below 100 000 + N x 10 000.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=1000))]
    jobs: u64,
    /// The job that kills the worker running it (0: none).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(0..=1000))]
    crash_job: u64,
    /// How many times a job whose worker died is tried again before it is reported failed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=5))]
    retries: u64,
    /// Run as a worker process: jobs in on stdin, results out on stdout, one JSON line each.
    #[arg(long, hide = true)]
    worker: bool,
}

// ANCHOR: protocol
/// One line down a worker's stdin.
#[derive(Serialize, Deserialize)]
struct Job {
    id: u64,
    below: u64,
    crash: bool,
}
/// One line back up its stdout.
#[derive(Serialize, Deserialize)]
struct Done {
    id: u64,
    primes: u64,
}
// ANCHOR_END: protocol
// ANCHOR: worker
/// The worker's side: a loop over its stdin until the pool closes it.
fn worker() -> ExitCode {
    for line in std::io::stdin().lines() {
        let job: Job = serde_json::from_str(&line.expect("read a job")).expect("a well-formed job");
        if job.crash {
            std::process::abort(); // A bug in native code, say: the whole process dies.
        }
        let is_prime = |n: u64| (2..n).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d));
        let primes = (2..job.below).filter(|&n| is_prime(n)).count() as u64;
        println!("{}", serde_json::to_string(&Done { id: job.id, primes }).expect("encode"));
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: worker
// ANCHOR: pool
type Try = (u64, u64, Result<u64, String>); // A job's id, the try's number, the primes or death.

/// One thread per worker process keeps it fed, one job at a time. When the worker dies: reap
/// it, see how, start a fresh one, and put the job back unless it has used up its retries.
fn keep_fed(queue: &Mutex<VecDeque<(Job, u64)>>, retries: u64) -> Vec<Try> {
    let ((mut worker, mut stdout), mut tried) = (start_worker(), Vec::new());
    loop {
        // (A separate statement, so the lock is released before the job runs.)
        let next = queue.lock().expect("the queue").pop_front();
        let Some((job, tries)) = next else { break };
        match ask(&mut worker, &mut stdout, &job) {
            Some(done) => tried.push((done.id, tries + 1, Ok(done.primes))),
            None => {
                let (death, again) = (worker.0.wait().expect("reap it"), tries < retries);
                (worker, stdout) = start_worker();
                let fate = if again { "tried again" } else { "reported failed" };
                tried.push((job.id, tries + 1, Err(format!("worker died ({death}); {fate}"))));
                if again {
                    queue.lock().expect("the queue").push_back((job, tries + 1));
                }
            }
        }
    }
    drop(worker.0.stdin.take()); // Closing its stdin ends the worker; then reap it.
    let status = worker.0.wait().expect("wait for the worker");
    assert!(status.success(), "a worker failed at the end: {status}");
    tried
}
// ANCHOR_END: pool
// ANCHOR: handle
/// Starts this program again as a worker, with a pipe each way. Its `Reaped` guard kills and
/// reaps it when dropped, so no exit path of the pool, a panic included, leaves a worker behind.
fn start_worker() -> (Reaped, BufReader<ChildStdout>) {
    let mut command = support::child::command("process_pool");
    command.arg("--worker").stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = command.spawn().expect("start a worker process");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    (Reaped(child), stdout)
}

/// Sends a job down the worker's stdin and waits for its answer; `None` if it died first.
fn ask(worker: &mut Reaped, stdout: &mut BufReader<ChildStdout>, job: &Job) -> Option<Done> {
    let stdin = worker.0.stdin.as_mut().expect("piped");
    writeln!(stdin, "{}", serde_json::to_string(job).expect("encode")).ok()?;
    let answer = stdout.lines().next()?.ok()?; // An end of file: the worker died.
    serde_json::from_str(&answer).ok()
}
// ANCHOR_END: handle

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        return worker();
    }
    // ANCHOR: start
    let job = |id| Job { id, below: 100_000 + id * 10_000, crash: id == args.crash_job };
    let queue = Mutex::new((1..=args.jobs).map(|id| (job(id), 0)).collect::<VecDeque<_>>());
    let mut tried: Vec<_> = std::thread::scope(|s| {
        let feeders: Vec<_> =
            (0..args.workers).map(|_| s.spawn(|| keep_fed(&queue, args.retries))).collect();
        feeders.into_iter().flat_map(|feeder| feeder.join().expect("a feeder thread")).collect()
    });
    // ANCHOR_END: start
    tried.sort(); // Tries end in any order; sorted, each job's come together, first try first.
    let mut table = Table::new(["job", "primes below", "try", "outcome"]);
    for (id, tries, outcome) in &tried {
        let outcome = outcome.as_ref().map_or_else(String::clone, |n| format!("{n} primes"));
        table.cells(&format!("{id}|{}|{tries}|{outcome}", job(*id).below));
    }
    table.print();
    let done = |id| tried.iter().any(|(job, _, outcome)| *job == id && outcome.is_ok());
    let failed = (1..=args.jobs).filter(|&id| !done(id)).count() as u64;
    let results = figure("results", tried.iter().filter(|t| t.2.is_ok()).count() as f64, "results");
    let restarts = figure("restarts", tried.len() as f64 - results.value, "restarts");
    let crashing = (1..=args.jobs).contains(&args.crash_job) as u64;
    let arrived = results.value as u64 == args.jobs - crashing && failed == crashing;
    let restarted = restarts.value as u64 == crashing * (args.retries + 1);
    let evidence = format!("{results} of {} jobs, {failed} failed, {restarts}", args.jobs);
    let claim = "the pool restarts a dead worker, reports the job that killed it, and every other result arrives";
    verdict(claim, arrived && restarted, &evidence)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
