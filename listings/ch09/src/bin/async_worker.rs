//! One worker on tokio, running many jobs at once, does the work of as many worker processes.
//!
//!     cargo run --release -p ch09 --bin async_worker -- --jobs 192 --at-once 8,64

use std::net::SocketAddr;
use std::process::ExitCode;

use ch09::queue::{self, Job};
use redis::{AsyncCommands, Commands};
use support::child::Reaped;
use support::latency::{Config, LatencyServer};
use support::redis_server::RedisServer;
use support::report::{Table, figure, verdict};
use support::timing::{children_cpu_time, ms, peak_rss_bytes_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Take jobs from Redis with many one-job worker processes, then with one tokio worker.
#[derive(clap::Parser)]
pub struct Args {
    /// Jobs the producer pushes, for each row.
    #[arg(long, default_value_t = 192, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    jobs: u64,
    /// How many jobs run at once: that many processes, or that many tasks in one.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 64],
          value_parser = clap::value_parser!(u64).range(1..=256))]
    at_once: Vec<u64>,
    /// Run as a worker on the Redis at this address: `sync` or `async:N`.
    #[arg(long, hide = true, num_args = 2)]
    worker: Vec<String>,
}

// ANCHOR: async_worker
/// One process, one thread, up to `at_once` jobs in flight: a task per job,
/// started when a permit is free. The taking connection blocks in BRPOP, so
/// it is its own; the tasks share another, multiplexed, for their results.
/// `#[tokio::main]` wraps the body in a one-thread runtime's `block_on`.
#[tokio::main(flavor = "current_thread")]
async fn async_worker(client: redis::Client, at_once: usize) {
    let forever = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    let mut taker = client.get_multiplexed_async_connection_with_config(&forever).await.unwrap();
    let results = client.get_multiplexed_async_connection().await.expect("connect");
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let permit = permits.clone().acquire_owned().await.expect("never closed");
        let (_, job): (String, String) = taker.brpop(queue::JOBS, 0.0).await.expect("BRPOP");
        if job == "stop" {
            break;
        }
        let mut results = results.clone();
        tasks.spawn(async move {
            let job: Job = serde_json::from_str(&job).expect("a well-formed job");
            let words = count_words(&job).await;
            let _: () = results.set(format!("result:{}", job.id), words).await.expect("SET");
            let _: () = results.lpush("done", job.id).await.expect("LPUSH the receipt");
            drop(permit);
        });
    }
    tasks.join_all().await;
}

/// The article's job again, with tokio's socket: waiting costs no thread.
async fn count_words(job: &Job) -> u64 {
    let mut stream = tokio::net::TcpStream::connect(job.server).await.expect("connect");
    stream.write_all(queue::request(job).as_bytes()).await.expect("send the request");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read the response");
    queue::words(&response)
}
// ANCHOR_END: async_worker

// ANCHOR: row
/// One row: `n` workers of one `kind`, each this program again, all waiting in
/// BRPOP before the jobs are pushed, so that none is still starting. Returns
/// jobs per second, the workers' CPU ms per job, and their peak memory in MiB.
fn one_row(redis: &RedisServer, api: SocketAddr, jobs: u64, kind: &str, n: u64) -> [f64; 3] {
    let mut connection = redis.connect();
    redis::cmd("FLUSHALL").exec(&mut connection).expect("start from an empty Redis");
    let cpu_before = children_cpu_time(); // measuring
    let workers: Vec<Reaped> = (0..n)
        .map(|_| {
            let mut command = support::child::command("async_worker");
            Reaped(command.args(["--worker", &redis.url(), kind]).spawn().expect("a worker"))
        })
        .collect();
    queue::wait_for(|| queue::blocked_clients(&mut connection) == n);
    let started = std::time::Instant::now(); // measuring
    let all: Vec<Job> =
        (1..=jobs).map(|id| Job { id, server: api, page: id, queued_us: 0 }).collect();
    queue::push_jobs(&mut connection, &all);
    for _ in 0..jobs {
        let _: (String, u64) = connection.brpop("done", 30.0).expect("a receipt within 30 s");
    }
    let rate = jobs as f64 / started.elapsed().as_secs_f64(); // measuring
    let peaks = workers.iter().map(|w| peak_rss_bytes_of(&w.0.id().to_string())); // measuring
    let mib = peaks.sum::<u64>() as f64 / (1 << 20) as f64; // measuring
    let _: usize = connection.lpush(queue::JOBS, vec!["stop"; n as usize]).expect("the stops");
    for mut worker in workers {
        assert!(worker.0.wait().expect("wait for a worker").success(), "a worker failed");
    }
    [rate, ms(children_cpu_time() - cpu_before) / jobs as f64, mib] // measuring
}
// ANCHOR_END: row

pub fn run(args: Args) -> ExitCode {
    if let [url, kind] = &args.worker[..] {
        let client = redis::Client::open(url.as_str()).expect("a valid address");
        match kind.strip_prefix("async:").map(|n| n.parse().expect("a number")) {
            None => queue::work_one_at_a_time(&mut client.get_connection().expect("connect")),
            Some(at_once) => async_worker(client, at_once),
        }
        return ExitCode::SUCCESS;
    }
    let redis = RedisServer::start();
    let api = LatencyServer::start(Config::latency(50)).expect("start the API");
    let mut table = Table::new(["at once", "workers", "jobs/s", "CPU per job", "workers' memory"]);
    let (mut held, mut evidence) = (true, Vec::new());
    for &n in &args.at_once {
        let rows = [
            (format!("{n} processes"), "processes", "sync".to_string(), n),
            ("1 process on tokio".to_string(), "tokio", format!("async:{n}"), 1),
        ];
        let [processes, tokio] = rows.map(|(label, name, kind, processes)| {
            let [rate, cpu, memory] = one_row(&redis, api.addr(), args.jobs, &kind, processes);
            let rate = figure(&format!("{name}_jobs_per_s_{n}"), rate, "jobs/s");
            let cpu = figure(&format!("{name}_cpu_ms_per_job_{n}"), cpu, "ms");
            let memory = figure(&format!("{name}_memory_mib_{n}"), memory, "MiB");
            table.cells(&format!("{n}|{label}|{rate:.0}|{cpu:.2}|{memory:.1}"));
            (rate.value, memory.value)
        });
        held &= tokio.0 >= 0.7 * processes.0 && (n < 4 || tokio.1 < processes.1);
        evidence.push(format!("{n} at once: {:.0} vs {:.0} jobs/s", tokio.0, processes.0));
    }
    table.print();
    println!(
        "({} jobs per row, each a page 50 ms away; CPU: the workers', from their start; \
         memory: the sum of the workers' peaks)",
        args.jobs
    );
    verdict(
        "one tokio worker keeps up with as many processes (within 30%), on less memory from 4 up",
        held,
        &evidence.join("; "),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
