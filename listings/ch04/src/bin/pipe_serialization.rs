//! Data crosses to a process as bytes: its cost grows with the payload; a thread is handed a pointer.
//!
//!     cargo run --release -p ch04 --bin pipe_serialization -- --max-mib 16

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Child, ChildStdin, ChildStdout, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use support::report::{Table, metric, series, verdict};
use support::timing::summarize;

/// Hand batches of prices of growing size to a worker process and to a worker thread.
#[derive(clap::Parser)]
pub struct Args {
    /// The largest batch, in MiB of prices in memory; batches go from 1 KiB up, x4 each step.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
    max_mib: u64,
    /// Round trips per size; the table shows the best, which other programs disturbed least.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    samples: u64,
    /// Run as a worker process: read batches from stdin, acknowledge each on stdout.
    #[arg(long, hide = true)]
    worker: bool,
}

/// A batch of prices, the plain data that crosses: 8 bytes each in memory.
#[derive(Serialize, Deserialize)]
struct Batch {
    prices: Vec<f64>,
}

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        return worker();
    }
    // One long-lived worker process and one worker thread: start-up is not counted here.
    let mut process = Worker::start();
    let (to_thread, thread_inbox) = mpsc::channel::<Vec<f64>>();
    let (thread_ack, acks) = mpsc::channel::<Vec<f64>>();
    let thread = thread::spawn(move || {
        for prices in thread_inbox {
            thread_ack.send(prices).expect("ack");
        }
    });

    let mut table = Table::new([
        "batch",
        "as JSON",
        "process: encode",
        "process: round trip",
        "thread: round trip",
        "ratio",
    ]);
    let (mut smallest, mut largest) = ((0.0, 0.0), (0.0, 0.0, 0.0, 0));
    let (mut process_curve, mut thread_curve) = (Vec::new(), Vec::new());
    let mut kib = 1;
    while kib <= args.max_mib * 1024 {
        let mut batch =
            Batch { prices: (0..kib * 128).map(|i| (10_000 + i % 5_000) as f64 / 100.0).collect() };
        let (mut encode, mut process_rt, mut thread_rt, mut json_bytes) =
            (vec![], vec![], vec![], 0);
        for _ in 0..args.samples {
            // ANCHOR: process
            // To a process: encode to bytes, write them down the pipe, and the
            // worker reads, parses and rebuilds its own copy before it answers.
            let started = Instant::now();
            let line = serde_json::to_string(&batch).expect("encode");
            encode.push(started.elapsed().as_secs_f64() * 1e6);
            let received = process.round_trip(&line);
            process_rt.push(started.elapsed().as_secs_f64() * 1e6);
            // ANCHOR_END: process
            assert_eq!(received, batch.prices.len());
            json_bytes = line.len();
        }
        // A thread's round trip costs microseconds, and one busy moment of the
        // machine outweighs it: take four times the samples.
        for _ in 0..args.samples * 4 {
            // ANCHOR: thread
            // To a thread: move the Vec through a channel, and get it back. Only
            // its pointer, length and capacity travel, whatever its size.
            let started = Instant::now();
            to_thread.send(batch.prices).expect("send");
            batch.prices = acks.recv().expect("handed back");
            thread_rt.push(started.elapsed().as_secs_f64() * 1e6);
            // ANCHOR_END: thread
        }
        let (encode, process_rt, thread_rt) =
            (summarize(&encode).min, summarize(&process_rt).min, summarize(&thread_rt).min);
        table.row([
            size(kib * 1024),
            size(json_bytes as u64),
            us(encode),
            us(process_rt),
            us(thread_rt),
            format!("{:.0}x", process_rt / thread_rt),
        ]);
        if kib == 1 {
            smallest = (process_rt, thread_rt);
        }
        largest = (process_rt, thread_rt, encode, json_bytes);
        process_curve.push((kib as f64, process_rt));
        thread_curve.push((kib as f64, thread_rt));
        kib *= 4;
    }
    table.print();
    println!("best of {} round trips per size, each way", args.samples);
    drop(to_thread);
    thread.join().expect("the worker thread ends");
    let status = process.finish();

    let process_growth = largest.0 / smallest.0;
    let thread_growth = largest.1 / smallest.1;
    series("process_round_trip", "KiB", "µs", &process_curve);
    series("thread_round_trip", "KiB", "µs", &thread_curve);
    metric("process_growth", process_growth, "x");
    metric("thread_growth", thread_growth, "x");
    metric("process_smallest_us", smallest.0, "µs");
    metric("thread_smallest_us", smallest.1, "µs");
    metric("process_largest_ms", largest.0 / 1e3, "ms");
    metric("encode_largest_ms", largest.2 / 1e3, "ms");
    metric("thread_largest_us", largest.1, "µs");
    metric("largest_json_mib", largest.3 as f64 / (1 << 20) as f64, "MiB");
    metric("largest_ratio", largest.0 / largest.1, "x");
    let holds = status.success()
        && process_growth > 50.0
        && thread_growth < 10.0
        && largest.0 > 100.0 * largest.1;
    verdict(
        "a process's cost grows with the payload, a thread's does not",
        holds,
        &format!(
            "from the smallest to the largest batch: process x{process_growth:.0}, thread x{thread_growth:.1}"
        ),
    )
}

/// The worker process, its pipes, and a guard that kills and reaps it.
struct Worker {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start() -> Worker {
        // This program again, as a worker: support::child has the convention.
        let mut child = support::child::command("pipe_serialization")
            .arg("--worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the worker process");
        let stdin = Some(BufWriter::new(child.stdin.take().expect("piped")));
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Worker { child, stdin, stdout }
    }

    /// Sends one JSON line and reads the worker's acknowledgement: how many prices it got.
    fn round_trip(&mut self, line: &str) -> usize {
        let stdin = self.stdin.as_mut().expect("open until finish");
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).expect("send the batch");
        let mut ack = String::new();
        self.stdout.read_line(&mut ack).expect("read the ack");
        ack.trim().parse().expect("a count")
    }

    /// Closes the worker's stdin, which ends it, and waits for it.
    fn finish(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        self.child.wait().expect("wait for the worker")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ANCHOR: worker
/// The worker's side: every line is a batch; it parses it into its own memory.
fn worker() -> ExitCode {
    for line in std::io::stdin().lines() {
        let batch: Batch = serde_json::from_str(&line.expect("read a batch")).expect("parse");
        println!("{}", batch.prices.len());
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: worker

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b => format!("{:.1} KiB", b as f64 / 1024.0),
    }
}

fn us(micros: f64) -> String {
    match micros {
        m if m >= 10_000.0 => format!("{:.0} ms", m / 1e3),
        m if m >= 1_000.0 => format!("{:.1} ms", m / 1e3),
        m => format!("{m:.0} µs"),
    }
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
