//! A pool of worker processes survives a job that kills its worker: it restarts it, and every other result arrives.
//!
//!     cargo run --release -p ch04 --bin process_pool -- --workers 2 --jobs 12 --crash-job 7

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin, ChildStdout, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};
use std::thread;

use serde::{Deserialize, Serialize};
use support::report::{Table, metric, verdict};

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
    #[arg(long, default_value_t = 7)]
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

/// What the pool's threads tell the main thread.
enum Event {
    Done(Done),
    WorkerDied { job: u64, tries: u64, death: String },
}

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        return worker();
    }
    let job = |id| Job { id, below: 100_000 + id * 10_000, crash: id == args.crash_job };
    let queue = Mutex::new((1..=args.jobs).map(|id| (job(id), 0)).collect::<VecDeque<_>>());
    let (events, received) = mpsc::channel();
    thread::scope(|s| {
        for _ in 0..args.workers {
            let (queue, events) = (&queue, events.clone());
            s.spawn(move || keep_fed(queue, args.retries, events));
        }
    });
    drop(events);

    // Results arrive in the order the jobs finish; the table sorts them by job.
    let mut outcomes = BTreeMap::new();
    let mut deaths = Vec::new();
    for event in received {
        match event {
            Event::Done(done) => _ = outcomes.insert(done.id, format!("{} primes", done.primes)),
            Event::WorkerDied { job, tries, death } => {
                deaths
                    .push(format!("job {job}, try {tries}: its worker died ({death}); restarted"));
                if tries > args.retries {
                    outcomes.insert(job, format!("failed: it killed its worker {tries} times"));
                }
            }
        }
    }
    let mut table = Table::new(["job", "primes below", "outcome"]);
    for (id, outcome) in &outcomes {
        table.row([id.to_string(), job(*id).below.to_string(), outcome.clone()]);
    }
    table.print();
    deaths.sort();
    deaths.iter().for_each(|line| println!("{line}"));
    let failed = outcomes.values().filter(|o| o.starts_with("failed")).count() as u64;
    let results = outcomes.len() as u64 - failed;
    metric("results", results as f64, "results");
    metric("restarts", deaths.len() as f64, "restarts");

    let crashing = (1..=args.jobs).contains(&args.crash_job) as u64;
    let restarts = deaths.len() as u64;
    let holds = results == args.jobs - crashing
        && failed == crashing
        && restarts == crashing * (args.retries + 1);
    verdict(
        "the pool restarts a dead worker, reports the job that killed it, and every other result arrives",
        holds,
        &format!("{results} of {} results, {failed} failed, {restarts} restarts", args.jobs),
    )
}

// ANCHOR: pool
/// One thread per worker process keeps it fed: it takes a job, writes it down
/// the worker's stdin and reads the answer from its stdout. An end of file
/// instead of an answer means the worker died: reap it, see how, start a fresh
/// one, and put the job back unless it has used up its retries.
fn keep_fed(queue: &Mutex<VecDeque<(Job, u64)>>, retries: u64, events: Sender<Event>) {
    let mut worker = Worker::start();
    loop {
        // (A separate statement, so the lock is released before the job runs.)
        let next = queue.lock().expect("the queue").pop_front();
        let Some((job, tries)) = next else { break };
        let event = match worker.ask(&job) {
            Some(done) => Event::Done(done),
            None => {
                let death = worker.reap();
                worker = Worker::start();
                let (id, tries) = (job.id, tries + 1);
                if tries <= retries {
                    queue.lock().expect("the queue").push_back((job, tries));
                }
                Event::WorkerDied { job: id, tries, death }
            }
        };
        events.send(event).expect("the main thread listens");
    }
    worker.finish(); // Closing its stdin ends it; then reap it.
}
// ANCHOR_END: pool

/// Counts the primes below `limit` by trial division: pure CPU work.
fn count_primes(limit: u64) -> u64 {
    let is_prime = |n: u64| (2..n).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d));
    (2..limit).filter(|&n| is_prime(n)).count() as u64
}

// ANCHOR: worker
/// The worker's side: a loop over its stdin until the pool closes it.
fn worker() -> ExitCode {
    for line in std::io::stdin().lines() {
        let job: Job = serde_json::from_str(&line.expect("read a job")).expect("a well-formed job");
        if job.crash {
            std::process::abort(); // A bug in native code, say: the whole process dies.
        }
        let primes = count_primes(job.below);
        println!("{}", serde_json::to_string(&Done { id: job.id, primes }).expect("encode"));
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: worker

/// One worker process and its pipes. Dropping it kills and reaps the process,
/// so no exit path of the pool, a panic included, leaves a worker behind.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start() -> Worker {
        // This program again, as a worker: support::child has the convention.
        let mut child = support::child::command("process_pool")
            .arg("--worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a worker process");
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take().expect("piped"));
        Worker { child, stdin, stdout: BufReader::new(stdout) }
    }

    /// Sends a job and waits for its answer; `None` if the worker died first.
    fn ask(&mut self, job: &Job) -> Option<Done> {
        let line = serde_json::to_string(job).expect("encode");
        writeln!(self.stdin.as_mut()?, "{line}").ok()?;
        let mut answer = String::new();
        match self.stdout.read_line(&mut answer) {
            Ok(0) | Err(_) => None,
            Ok(_) => serde_json::from_str(&answer).ok(),
        }
    }

    /// Waits for a dead worker and says how it died.
    fn reap(&mut self) -> String {
        let status = self.child.wait().expect("wait for the worker");
        match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (_, Some(signal)) => format!("signal {signal}"),
            _ => unreachable!("a process that ended has a code or a signal"),
        }
    }

    fn finish(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait for the worker");
        assert!(status.success(), "a worker failed at the end: {status}");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
