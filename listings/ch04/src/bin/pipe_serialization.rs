//! Data crosses to a process as bytes: its cost grows with the payload; a thread gets a pointer.
//!
//!     cargo run --release -p ch04 --bin pipe_serialization -- --max-mib 16

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{ChildStdin, ChildStdout, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use support::child::Reaped;
use support::report::{Table, figure, metric, series, verdict};
use support::timing::us;

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

// ANCHOR: worker
/// A batch of prices, the plain data that crosses: 8 bytes each in memory.
#[derive(Serialize, Deserialize)]
struct Batch {
    prices: Vec<f64>,
}

/// The worker's side: every line is a batch; it parses it into its own memory.
fn worker() -> ExitCode {
    for line in std::io::stdin().lines() {
        let batch: Batch = serde_json::from_str(&line.expect("read a batch")).expect("parse");
        println!("{}", batch.prices.len());
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: worker

// ANCHOR: round_trips
/// The worker process's stdin, buffered, and its stdout.
type Pipe = (BufWriter<ChildStdin>, BufReader<ChildStdout>);

/// To a process: encode to bytes, write them down the pipe, and the worker
/// reads, parses and rebuilds its own copy before it answers with a count.
/// Returns the time to encode, the whole round trip, and the bytes sent.
fn to_process(pipe: &mut Pipe, batch: &Batch) -> (Duration, Duration, usize) {
    let started = Instant::now();
    let line = serde_json::to_string(batch).expect("encode");
    let encoded = started.elapsed();
    writeln!(pipe.0, "{line}").and_then(|()| pipe.0.flush()).expect("send the batch");
    let mut ack = String::new();
    pipe.1.read_line(&mut ack).expect("read the ack");
    let round_trip = started.elapsed();
    assert_eq!(ack.trim().parse(), Ok(batch.prices.len()));
    (encoded, round_trip, line.len())
}

/// To a thread: move the Vec through a channel, and get it back. Only its
/// pointer, length and capacity travel, whatever its size.
fn to_thread(batch: &mut Batch, inbox: &Sender<Vec<f64>>, acks: &Receiver<Vec<f64>>) -> Duration {
    let started = Instant::now();
    inbox.send(std::mem::take(&mut batch.prices)).expect("send"); // (An empty Vec stays.)
    batch.prices = acks.recv().expect("handed back");
    started.elapsed()
}
// ANCHOR_END: round_trips

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        return worker();
    }
    // ANCHOR: start
    // One long-lived worker process, this program again, with a pipe each way...
    let mut command = support::child::command("pipe_serialization");
    let spawned = command.arg("--worker").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let mut process = Reaped(spawned.expect("start the worker process"));
    let stdin = BufWriter::new(process.0.stdin.take().expect("piped"));
    let mut pipe = (stdin, BufReader::new(process.0.stdout.take().expect("piped")));
    // ...and one worker thread, with a channel each way: it hands back what it is sent.
    let ((inbox, handed), (hand_back, acks)) = (mpsc::channel(), mpsc::channel());
    let thread = std::thread::spawn(move || handed.iter().try_for_each(|p| hand_back.send(p)));
    // ANCHOR_END: start
    let columns = "batch|as JSON|process: encode|process: round trip|thread: round trip|ratio";
    let mut table = Table::new(columns.split('|'));
    let (mut process_curve, mut thread_curve, mut largest) = (Vec::new(), Vec::new(), (0.0, 0));
    for kib in (0..).map(|step| 4u64.pow(step)).take_while(|&kib| kib <= args.max_mib * 1024) {
        let prices = (0..kib * 128).map(|i| (10_000 + i % 5_000) as f64 / 100.0).collect();
        let mut batch = Batch { prices };
        let tries: Vec<_> = (0..args.samples).map(|_| to_process(&mut pipe, &batch)).collect();
        let encode = tries.iter().map(|t| us(t.0)).fold(f64::MAX, f64::min);
        let process_rt = tries.iter().map(|t| us(t.1)).fold(f64::MAX, f64::min);
        // A thread's round trip is microseconds, which one busy moment outweighs: 4x the samples.
        let thread_rt = (0..args.samples * 4).map(|_| us(to_thread(&mut batch, &inbox, &acks)));
        let thread_rt = thread_rt.fold(f64::MAX, f64::min);
        let (bytes, json) = (size(kib * 1024), size(tries[0].2 as u64));
        let ratio = format!("{:.1}x", process_rt / thread_rt);
        table.row([bytes, json, cell(encode), cell(process_rt), cell(thread_rt), ratio]);
        process_curve.push((kib as f64, process_rt));
        thread_curve.push((kib as f64, thread_rt));
        largest = (encode, tries[0].2);
    }
    table.print();
    println!("best of {} round trips per size, each way", args.samples);
    drop(inbox);
    thread.join().expect("the worker thread ends").expect("it handed every batch back");
    drop(pipe); // Closing its stdin ends the worker.
    let status = process.0.wait().expect("wait for the worker");
    series("process_round_trip", "KiB", "µs", &process_curve);
    series("thread_round_trip", "KiB", "µs", &thread_curve);
    let (smallest, last) = ((process_curve[0].1, thread_curve[0].1), process_curve.len() - 1);
    let (process_largest, thread_largest) = (process_curve[last].1, thread_curve[last].1);
    let process_growth = figure("process_growth", process_largest / smallest.0, "x");
    let thread_growth = figure("thread_growth", thread_largest / smallest.1, "x");
    metric("process_smallest_us", smallest.0, "µs");
    metric("thread_smallest_us", smallest.1, "µs");
    metric("process_largest_ms", process_largest / 1e3, "ms");
    metric("encode_largest_ms", largest.0 / 1e3, "ms");
    metric("thread_largest_us", thread_largest, "µs");
    metric("largest_json_mib", largest.1 as f64 / (1 << 20) as f64, "MiB");
    metric("largest_ratio", process_largest / thread_largest, "x");
    let grows = process_growth.value > 50.0 && thread_growth.value < 10.0;
    let holds = status.success() && grows && process_largest > 100.0 * thread_largest;
    let evidence = format!("process {process_growth:.0}, thread {thread_growth:.1}");
    let claim = "a process's cost grows with the payload, a thread's does not";
    verdict(claim, holds, &format!("from the smallest to the largest batch: {evidence}"))
}

fn size(bytes: u64) -> String {
    let (scale, unit) = if bytes >= 1 << 20 { (1 << 20, "MiB") } else { (1 << 10, "KiB") };
    format!("{:.1} {unit}", bytes as f64 / scale as f64)
}

fn cell(micros: f64) -> String {
    match micros {
        m if m < 1_000.0 => format!("{m:.0} µs"),
        m => format!("{:.*} ms", usize::from(m < 10_000.0), m / 1e3), // 2.7 ms, 136 ms
    }
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
