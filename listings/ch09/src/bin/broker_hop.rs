//! A job through Redis costs two trips to the broker: more than a pipe, far more than a call.
//!
//!     cargo run --release -p ch09 --bin broker_hop -- --round-trips 2000

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, ExitCode, Stdio};

use ch09::queue::JOBS;
use redis::{Commands, Connection};
use support::child::Reaped;
use support::report::{Table, figure, verdict};

/// Send a tiny job and wait for its answer: by a call, through a pipe, through Redis.
#[derive(clap::Parser)]
pub struct Args {
    /// Round trips timed for each way.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
    round_trips: u64,
    /// Run as the Redis worker, on the server at this address.
    #[arg(long, hide = true)]
    redis_worker: Option<String>,
    /// Run as the pipe worker, on stdin and stdout.
    #[arg(long, hide = true)]
    pipe_worker: bool,
}

// ANCHOR: hops
/// The job, tiny on purpose, so that what is measured is the trip.
fn count_words(line: &str) -> u64 {
    line.split_whitespace().count() as u64
}

/// A child process and a pipe each way: one line out, one line back.
fn through_a_pipe(to: &mut ChildStdin, from: &mut BufReader<ChildStdout>, line: &str) -> u64 {
    writeln!(to, "{line}").expect("write to the worker");
    let mut answer = String::new();
    from.read_line(&mut answer).expect("read the worker's answer");
    answer.trim().parse().expect("a count")
}

/// The worker at the other end of the pipes: a line in, its count out.
fn pipe_worker() -> ExitCode {
    for line in std::io::stdin().lines() {
        println!("{}", count_words(&line.expect("a line from the listing")));
    }
    ExitCode::SUCCESS // the listing closed its end of the pipe
}

/// Redis between them: the job onto the queue, the answer onto a reply list.
/// Each is a trip to the broker, and the worker makes two more.
fn through_redis(redis: &mut Connection, line: &str) -> u64 {
    let _: usize = redis.lpush(JOBS, line).expect("LPUSH the job");
    let (_list, answer): (String, u64) = redis.brpop("answers", 0.0).expect("BRPOP the answer");
    answer
}

/// The worker at the other end of Redis.
fn redis_worker(url: &str) -> ExitCode {
    let mut redis = redis::Client::open(url).and_then(|c| c.get_connection()).expect("connect");
    loop {
        let (_list, line): (String, String) = redis.brpop(JOBS, 0.0).expect("BRPOP a job");
        if line == "stop" {
            return ExitCode::SUCCESS;
        }
        let _: usize = redis.lpush("answers", count_words(&line)).expect("LPUSH the answer");
    }
}
// ANCHOR_END: hops

/// The median of `round_trips` timed trips of `line`, in µs, each answer checked.
fn per_trip_us(round_trips: u64, line: &str, mut trip: impl FnMut(&str) -> u64) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..round_trips {
        let (answer, took) = support::timing::time(|| trip(std::hint::black_box(line)));
        assert_eq!(answer, count_words(line), "a wrong answer");
        samples.push(support::timing::us(took));
    }
    support::timing::percentile(&samples, 50.0)
}

pub fn run(args: Args) -> ExitCode {
    match (&args.redis_worker, args.pipe_worker) {
        (Some(url), _) => return redis_worker(url),
        (None, true) => return pipe_worker(),
        (None, false) => {}
    }
    let (n, line) = (args.round_trips, "ACME 101.25 101.50 100.75 101.00");
    let calls = (0..n * 100).map(|_| count_words(std::hint::black_box(line)));
    let (_, spent) = support::timing::time(|| calls.sum::<u64>());
    let call = figure("call_us", support::timing::us(spent) / (n * 100) as f64, "µs");
    // ANCHOR: start
    // Both workers are this program again, each started with its hidden flag.
    let mut command = support::child::command("broker_hop");
    command.arg("--pipe-worker").stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = Reaped(command.spawn().expect("start the pipe worker"));
    let mut to = child.0.stdin.take().expect("its stdin");
    let mut from = BufReader::new(child.0.stdout.take().expect("its stdout"));
    let pipe = per_trip_us(n, line, |l| through_a_pipe(&mut to, &mut from, l));
    drop(to); // the worker reads the end of its input and exits
    let redis = support::redis_server::RedisServer::start();
    let mut command = support::child::command("broker_hop");
    let _worker = Reaped(command.args(["--redis-worker", &redis.url()]).spawn().expect("a worker"));
    let mut connection = redis.connect();
    let broker = per_trip_us(n, line, |l| through_redis(&mut connection, l));
    let _: usize = connection.lpush(JOBS, "stop").expect("LPUSH the stop");
    // ANCHOR_END: start
    let (pipe, broker) = (figure("pipe_us", pipe, "µs"), figure("redis_us", broker, "µs"));
    let mut table = Table::new(["a job and its answer", "median round trip", "against a pipe"]);
    table.cells(&format!("a function call|{call:.3}|{:.3}x", call.value / pipe.value));
    table.cells(&format!("a pipe to a child process|{pipe:.1}|1x"));
    table.cells(&format!("a Redis list, a worker|{broker:.1}|{:.1}x", broker.value / pipe.value));
    table.print();
    let claim = "a call is far cheaper than a pipe, and a pipe cheaper than a trip through Redis";
    let held = call.value * 20.0 < pipe.value && pipe.value < broker.value;
    verdict(claim, held, &format!("{call:.3}, {pipe:.1}, {broker:.1}: medians of {n} round trips"))
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
