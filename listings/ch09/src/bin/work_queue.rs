//! Workers on a Redis queue overlap their waits: K workers do about K jobs per latency.
//!
//!     cargo run --release -p ch09 --bin work_queue -- --jobs 48 --workers 1,2,4,8

use std::net::SocketAddr;
use std::process::ExitCode;

use ch09::queue::{self, Job};
use redis::{Commands, Connection};
use support::child::Reaped;
use support::latency::{Config, LatencyServer};
use support::redis_server::RedisServer;
use support::report::{Table, figure, series, verdict};
use support::timing::percentile;

/// Count the words of pages fetched by worker processes that take jobs from Redis.
#[derive(clap::Parser)]
pub struct Args {
    /// Jobs the producer pushes, for each worker count.
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    jobs: u64,
    /// The worker counts to measure, each a set of worker processes.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4, 8],
          value_parser = clap::value_parser!(u64).range(1..=64))]
    workers: Vec<u64>,
    /// The API's latency per page, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(5..=1000))]
    latency_ms: u64,
    /// Run as a worker process, taking jobs from the Redis at this address.
    #[arg(long, hide = true)]
    worker: Option<String>,
}

// ANCHOR: worker
/// A worker process: take a job, do it, store its result, hand the producer
/// a receipt; again, until it takes "stop".
fn worker(redis_url: &str) -> ExitCode {
    let client = redis::Client::open(redis_url).expect("a valid address");
    let mut redis = client.get_connection().expect("connect to redis-server");
    let _: usize = redis.lpush("ready", std::process::id()).expect("say it is ready");
    loop {
        let job = queue::take(&mut redis);
        if job == "stop" {
            return ExitCode::SUCCESS;
        }
        let taken_us = queue::now_us();
        let job: Job = serde_json::from_str(&job).expect("a well-formed job");
        let words = queue::count_words(&job);
        queue::store(&mut redis, job.id, words);
        let receipt = serde_json::to_string(&[job.queued_us, taken_us, queue::now_us()]);
        let _: usize = redis.lpush("done", receipt.unwrap()).expect("LPUSH the receipt");
    }
}
// ANCHOR_END: worker

// ANCHOR: producer
/// Starts `workers` worker processes, pushes `jobs` jobs once all of them
/// are connected, and waits for every receipt: queued, taken, done (µs).
fn run_queue(redis: &RedisServer, api: SocketAddr, jobs: u64, workers: u64) -> Vec<[u64; 3]> {
    let mut connection = redis.connect();
    redis::cmd("FLUSHALL").exec(&mut connection).expect("start from an empty Redis");
    // Each worker is this program again, with the hidden `--worker` flag.
    let started: Vec<Reaped> = (0..workers)
        .map(|_| {
            let mut command = support::child::command("work_queue");
            Reaped(command.args(["--worker", &redis.url()]).spawn().expect("start a worker"))
        })
        .collect();
    for _ in 0..workers {
        wait_for(&mut connection, "ready");
    }
    let queued_us = queue::now_us();
    let jobs: Vec<Job> =
        (1..=jobs).map(|id| Job { id, server: api, page: id, queued_us }).collect();
    queue::push_jobs(&mut connection, &jobs);
    let receipts: Vec<[u64; 3]> = (jobs.iter())
        .map(|_| serde_json::from_str(&wait_for(&mut connection, "done")).expect("a receipt"))
        .collect();
    // One "stop" per worker: each takes one after its last job and exits.
    let _: usize = connection.lpush(queue::JOBS, vec!["stop"; workers as usize]).expect("LPUSH");
    for mut worker in started {
        assert!(worker.0.wait().expect("wait for a worker").success(), "a worker failed");
    }
    receipts
}

/// BRPOP with a limit: a worker that died would leave the producer waiting.
fn wait_for(connection: &mut Connection, list: &str) -> String {
    let popped: Option<(String, String)> = connection.brpop(list, 30.0).expect("BRPOP");
    popped.unwrap_or_else(|| panic!("nothing on `{list}` for 30 s")).1
}
// ANCHOR_END: producer

pub fn run(args: Args) -> ExitCode {
    if let Some(redis_url) = &args.worker {
        return worker(redis_url);
    }
    let redis = RedisServer::start();
    let api = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the API");
    let (jobs, latency_ms, version) = (args.jobs as f64, args.latency_ms, redis.version());
    let mut table = Table::new(["workers", "jobs/s", "ideal", "in a worker", "queued"]);
    let (mut rates, mut ideals, mut short) = (Vec::new(), Vec::new(), 0);
    let cpu_before = redis.cpu_ms();
    for &k in &args.workers {
        let receipts = run_queue(&redis, api.addr(), args.jobs, k);
        let span = |from: u64, to: u64| to.saturating_sub(from) as f64 / 1e3; // µs to ms
        // Throughput: from the push to the last job done, as the receipts say.
        let last_done = receipts.iter().map(|r| r[2]).max().unwrap_or(0);
        let rate = jobs / (span(receipts[0][0], last_done) / 1e3);
        let rate = figure(&format!("jobs_per_s_{k}"), rate, "jobs/s");
        // Ideal: the jobs in rounds of k, each round one latency long.
        let ideal = jobs / (args.jobs.div_ceil(k) as f64 * latency_ms as f64 / 1e3);
        let ideal = figure(&format!("ideal_jobs_per_s_{k}"), ideal, "jobs/s");
        let in_worker: Vec<f64> = receipts.iter().map(|r| span(r[1], r[2])).collect();
        let in_worker = figure(&format!("job_ms_{k}"), percentile(&in_worker, 50.0), "ms");
        let queued: Vec<f64> = receipts.iter().map(|r| span(r[0], r[2])).collect();
        let queued = figure(&format!("queued_ms_{k}"), percentile(&queued, 50.0), "ms");
        table.cells(&format!("{k}|{rate:.0}|{ideal:.0}|{in_worker:.1}|{queued:.0}"));
        rates.push((k as f64, rate.value));
        ideals.push((k as f64, ideal.value));
        short += usize::from(rate.value < 0.5 * ideal.value);
    }
    let cpu = figure("redis_cpu_ms", redis.cpu_ms() - cpu_before, "ms");
    let per_job = cpu.value * 1e3 / (jobs * args.workers.len() as f64);
    let per_job = figure("redis_cpu_us_per_job", per_job, "µs");
    table.print();
    println!(
        "(redis-server {version} on a Unix socket; {jobs} jobs per row, each page {latency_ms} ms \
         away; in a worker: median from taking a job to its receipt; queued: from push to receipt)"
    );
    println!("redis-server's CPU time over every row: {cpu:.1}, {per_job:.0} per job");
    series("jobs_per_s_by_workers", "workers", "jobs/s", &rates);
    series("ideal_jobs_per_s_by_workers", "workers", "jobs/s", &ideals);
    let evidence: Vec<String> = rates.iter().map(|(k, r)| format!("{r:.0} with {k}")).collect();
    let claim = "each worker count does at least half its ideal: one job per worker per latency";
    verdict(claim, short == 0, &format!("jobs/s by workers: {}", evidence.join(", ")))
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
