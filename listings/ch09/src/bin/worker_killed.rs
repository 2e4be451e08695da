//! A worker killed mid-job loses that job with BRPOP; with BLMOVE, an ack and a reaper, none.
//!
//!     cargo run --release -p ch09 --bin worker_killed -- --jobs 20

use std::net::SocketAddr;
use std::process::ExitCode;

use ch09::queue::{self, Job};
use redis::{Commands, Connection};
use support::child::Reaped;
use support::latency::{Config, LatencyServer};
use support::redis_server::RedisServer;
use support::report::{Table, figure, verdict};

/// Kill workers at two fixed points of a job, on a plain queue and on a reliable one.
#[derive(clap::Parser)]
pub struct Args {
    /// Jobs the producer pushes, for each kind of queue.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(3..=1000))]
    jobs: u64,
    /// The API's latency per page, in milliseconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    latency_ms: u64,
    /// Run as a worker process, taking jobs from the Redis at this address.
    #[arg(long, hide = true)]
    worker: Option<String>,
    /// As a worker, take jobs the reliable way.
    #[arg(long, hide = true)]
    reliable: bool,
    /// As a worker, stop at this point of the first job and say so: `taken` or `stored`.
    #[arg(long, hide = true)]
    pause_at: Option<String>,
}

// ANCHOR: worker
/// A worker process. Redis counts each delivery, each result stored and
/// each duplicate refused, so the counts survive the worker.
fn worker(redis_url: &str, reliable: bool, pause_at: Option<&str>) -> ExitCode {
    let client = redis::Client::open(redis_url).expect("a valid address");
    let redis = &mut client.get_connection().expect("connect to redis-server");
    let name = format!("worker-{}", std::process::id());
    loop {
        let job = if reliable { queue::take_reliably(redis, &name) } else { queue::take(redis) };
        if job != "stop" {
            let _: u64 = redis.incr("delivered", 1).expect("INCR");
            let parsed: Job = serde_json::from_str(&job).expect("a well-formed job");
            pause_here(redis, pause_at == Some("taken"), parsed.id);
            let first = queue::store(redis, parsed.id, queue::count_words(&parsed));
            let _: u64 = redis.incr(if first { "completed" } else { "refused" }, 1).expect("INCR");
            pause_here(redis, pause_at == Some("stored"), parsed.id);
        }
        if reliable {
            queue::acknowledge(redis, &name, &job);
        }
        if job == "stop" {
            return ExitCode::SUCCESS;
        }
    }
}

/// The fixed point: tell the listing, then wait to be killed (30 s at most: never linger).
fn pause_here(redis: &mut Connection, here: bool, id: u64) {
    if here {
        let _: usize = redis.lpush("paused", id).expect("LPUSH");
        let _: Option<(String, String)> = redis.blpop("never", 30.0).expect("BLPOP");
        std::process::exit(1);
    }
}
// ANCHOR_END: worker

// ANCHOR: faults
/// Pushes the jobs; kills one worker after it took a job, then one after it
/// stored a result, each before its acknowledgement; lets one more worker
/// finish the queue. Returns how many jobs the reaper put back.
fn run_with_kills(redis: &RedisServer, api: SocketAddr, jobs: u64, reliable: bool) -> u64 {
    let mut connection = redis.connect();
    redis::cmd("FLUSHALL").exec(&mut connection).expect("start from an empty Redis");
    let jobs: Vec<Job> =
        (1..=jobs).map(|id| Job { id, server: api, page: id, queued_us: 0 }).collect();
    queue::push_jobs(&mut connection, &jobs);
    let mut put_back = 0;
    for point in ["taken", "stored"] {
        let mut victim = start_worker(redis, reliable, Some(point));
        let paused: Option<(String, String)> = connection.brpop("paused", 30.0).expect("BRPOP");
        assert!(paused.is_some(), "the worker never reached the point `{point}`");
        victim.0.kill().expect("SIGKILL the worker"); // On Unix, Child::kill is SIGKILL.
        victim.0.wait().expect("reap the worker");
        if reliable {
            // This listing saw the worker die. Across machines nobody can:
            // a heartbeat key with a time to live stands in for waitpid.
            put_back += queue::requeue(&mut connection, &format!("worker-{}", victim.0.id()));
        }
    }
    let _: usize = connection.lpush(queue::JOBS, "stop").expect("LPUSH the stop");
    let mut survivor = start_worker(redis, reliable, None);
    assert!(survivor.0.wait().expect("wait for the worker").success(), "the worker failed");
    put_back
}

/// A worker is this program again, told by hidden flags how to take jobs and where to stop.
fn start_worker(redis: &RedisServer, reliable: bool, pause_at: Option<&str>) -> Reaped {
    let mut command = support::child::command("worker_killed");
    command.args(["--worker", &redis.url()]).args(reliable.then_some("--reliable"));
    command.args(pause_at.map(|point| format!("--pause-at={point}")));
    Reaped(command.spawn().expect("start a worker"))
}
// ANCHOR_END: faults

pub fn run(args: Args) -> ExitCode {
    if let Some(redis_url) = &args.worker {
        return worker(redis_url, args.reliable, args.pause_at.as_deref());
    }
    let redis = RedisServer::start();
    let api = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the API");
    let mut table =
        Table::new(["queue", "submitted", "delivered", "completed", "lost", "put back", "refused"]);
    let (n, mut counts) = (args.jobs, Vec::new());
    let queues = [("BRPOP", "brpop", false), ("BLMOVE + LREM", "reliable", true)];
    for (label, name, reliable) in queues {
        let put_back = run_with_kills(&redis, api.addr(), n, reliable);
        let mut connection = redis.connect();
        let mut get = |key: &str| connection.get::<_, Option<u64>>(key).unwrap().unwrap_or(0);
        let (delivered, completed, refused) = (get("delivered"), get("completed"), get("refused"));
        let counted = [delivered, completed, n - completed, put_back, refused];
        let mut row = format!("{label}|{n}");
        let what = ["delivered", "completed", "lost", "put_back", "refused"];
        for (what, count) in what.iter().zip(counted) {
            row += &format!("|{}", figure(&format!("{name}_{what}"), count as f64, ""));
        }
        table.cells(&row);
        counts.push(counted);
    }
    table.print();
    println!("(redis-server {}; two workers killed with SIGKILL in each queue)", redis.version());
    let (plain, reliable) = (counts[0], counts[1]);
    verdict(
        "BRPOP loses the job taken before the kill; the reliable queue completes all, once each",
        plain == [n, n - 1, 1, 0, 0] && reliable == [n + 2, n, 0, 2, 1],
        &format!(
            "of {n}: {} done with BRPOP, {} lost; {} with BLMOVE, {} put back, {} refused",
            plain[1], plain[2], reliable[1], reliable[3], reliable[4]
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
