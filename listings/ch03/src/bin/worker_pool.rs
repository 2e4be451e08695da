//! Four workers fetch 100 records about 4x as fast as one thread, if handed out in small pieces.
//!
//!     cargo run --release -p ch03 --bin worker_pool -- --records 100 --batch 10 --workers 4 --latency-ms 20

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{atomic::AtomicUsize, atomic::Ordering, mpsc};
use std::{process::ExitCode, thread};

use support::latency::{Config, LatencyServer, ticker_body};
use support::report::{Table, figure, verdict};

/// Fetch records from the loopback ticker API: one thread, then a pool.
#[derive(clap::Parser)]
pub struct Args {
    /// Records to fetch, one request each.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    records: u64,
    /// Records per batch, when the pool hands out batches.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    batch: u64,
    /// Worker threads in the pool.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    workers: u64,
    /// The simulated API's latency per request, in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    latency_ms: u64,
}

// ANCHOR: pool
/// Runs `jobs` on `workers` threads and returns each job's records in the
/// order of `jobs`. A job is a list of pages, fetched one after another.
fn pool(server: SocketAddr, workers: usize, jobs: &[Vec<u64>]) -> Vec<Vec<Vec<u8>>> {
    let next_job = AtomicUsize::new(0);
    let (done, results) = mpsc::channel();
    // Scoped threads may borrow `jobs` and `next_job`: the scope joins them all before it returns.
    thread::scope(|scope| {
        for _ in 0..workers {
            let (next_job, done) = (&next_job, done.clone());
            scope.spawn(move || {
                // Each worker takes the next job nobody has taken, until none is left.
                loop {
                    let index = next_job.fetch_add(1, Ordering::Relaxed);
                    let Some(pages) = jobs.get(index) else { break };
                    let records = pages.iter().map(|&page| fetch_record(server, page)).collect();
                    done.send((index, records)).unwrap();
                }
            });
        }
    });
    drop(done);
    // Results arrive in the order jobs finish; put them back in input order.
    let mut finished: Vec<(usize, Vec<Vec<u8>>)> = results.iter().collect();
    finished.sort_by_key(|(index, _)| *index);
    finished.into_iter().map(|(_, records)| records).collect()
}
// ANCHOR_END: pool

// ANCHOR: fetch
/// One blocking request over a fresh connection; returns the body.
fn fetch_record(server: SocketAddr, page: u64) -> Vec<u8> {
    let mut stream = TcpStream::connect(server).expect("connect");
    let request = format!(
        "GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read the response"); // Until the server closes.
    let body = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a header") + 4;
    response.split_off(body)
}
// ANCHOR_END: fetch

pub fn run(args: Args) -> ExitCode {
    let config = Config::latency(args.latency_ms);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    // ANCHOR: jobs
    // The same records, cut into jobs two ways: a batch per job, or a record per
    // job. One worker taking the batches is one thread fetching them in turn.
    let pages: Vec<u64> = (1..=args.records).collect();
    let batches: Vec<Vec<u64>> = pages.chunks(args.batch as usize).map(<[u64]>::to_vec).collect();
    let records: Vec<Vec<u64>> = pages.iter().map(|&page| vec![page]).collect();
    let ways = [
        ("one thread, one after another", "sequential", &batches, 1),
        ("pool, a batch per job", "batches", &batches, args.workers as usize),
        ("pool, a record per job", "records", &records, args.workers as usize),
    ];
    // ANCHOR_END: jobs

    let expected_bodies: Vec<Vec<u8>> =
        pages.iter().map(|&page| ticker_body("ACME", page, config.payload_bytes)).collect();
    let mut table = Table::new(["how", "jobs", "rounds", "wall", "speed-up", "at best"]);
    let (mut sequential, mut holds, mut evidence) = (0.0, true, Vec::new());
    for (how, name, jobs, workers) in ways {
        let (fetched, wall) = support::timing::time(|| pool(server.addr(), workers, jobs));
        holds &= fetched.concat() == expected_bodies; // Every record, in order, as sent.
        // Jobs run in rounds of `workers` at once, each as long as a job's fetches.
        let rounds = jobs.len().div_ceil(workers) * jobs[0].len();
        let wall = figure(&format!("{name}_ms"), support::timing::ms(wall), "ms");
        if workers == 1 {
            sequential = wall.value;
        }
        let speedup = figure(&format!("speedup_{name}"), sequential / wall.value, "x");
        let at_best = figure(&format!("at_best_{name}"), pages.len() as f64 / rounds as f64, "x");
        // Within 25% of what the rounds allow, and not better by more than 10%.
        holds &= (0.75..1.1).contains(&(speedup.value / at_best.value));
        evidence.push(format!("{name}: {speedup:.2} of {at_best:.2}"));
        table.cells(&format!("{how}|{}|{rounds}|{wall:.0}|{speedup:.2}|{at_best:.2}", jobs.len()));
    }
    table.print();
    verdict(
        "a pool of N threads fetches about N times as fast, as far as the jobs divide evenly",
        holds,
        &evidence.join(", "),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
