//! Redis killed mid-run loses its queued jobs without persistence, none with an append-only file.
//!
//!     cargo run --release -p ch09 --bin redis_killed -- --jobs 40

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{atomic::AtomicBool, atomic::Ordering, mpsc};

use ch09::queue::{self, Job, Resilient};
use redis::Commands;
use support::latency::{Config, LatencyServer};
use support::redis_server::{Durability, RedisServer};
use support::report::{Table, figure, verdict};

/// Kill Redis while workers run, restart it, and count the jobs that survived.
#[derive(clap::Parser)]
pub struct Args {
    /// Jobs the producer pushes: half before Redis is killed, half while it is down.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(8..=1000))]
    jobs: u64,
    /// Worker threads, each with its own connection.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    workers: u64,
    /// Acknowledged writes timed on each server, to show what a flush to disk costs.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    writes: u64,
}

// ANCHOR: worker
/// A worker that rides out a restart. After each reconnection it first
/// finishes what its processing list still holds: jobs it took and had not
/// acknowledged when the server went (with an append-only file, they are
/// still there). A result leaves before its job is acknowledged, never after.
fn worker(url: &str, name: &str, results: mpsc::Sender<u64>, stop: &AtomicBool) -> u64 {
    let (mut redis, processing) = (Resilient::new(url, name), format!("processing:{name}"));
    let mut recovered_after = u64::MAX; // recover once at the start, then after each outage
    while !stop.load(Ordering::Relaxed) {
        let mut held: Vec<String> = Vec::new();
        if redis.reconnects != recovered_after {
            recovered_after = redis.reconnects;
            held = redis.run(|r| r.lrange(&processing, 0, -1));
        }
        if held.is_empty() {
            held.extend(redis.run(|r| queue::take_within(r, &processing, 0.1)));
        }
        for job in held {
            let parsed: Job = serde_json::from_str(&job).expect("a well-formed job");
            queue::count_words(&parsed);
            results.send(parsed.id).expect("the listing waits for results");
            redis.run(|r| r.lrem::<_, _, usize>(&processing, 1, &job));
        }
    }
    redis.reconnects
}
// ANCHOR_END: worker

// ANCHOR: crash
/// Pushes half the jobs, kills Redis once the workers took `busy`, pushes the
/// rest while it is down (each push waits), restarts it. Returns reconnections.
fn crash_mid_run(redis: &mut RedisServer, api: SocketAddr, jobs: u64, busy: u64) -> u64 {
    let producer = |ids: std::ops::RangeInclusive<u64>, url: String| {
        let mut connection = Resilient::new(&url, "producer");
        for id in ids {
            let job = Job { id, server: api, page: id, queued_us: 0 };
            let job = serde_json::to_string(&job).expect("a job is JSON");
            connection.run(|r| r.lpush::<_, _, usize>(queue::JOBS, &job));
        }
        connection.reconnects
    };
    producer(1..=jobs / 2, redis.url());
    queue::wait_for(|| redis.connect().llen::<_, u64>(queue::JOBS).unwrap() <= jobs / 2 - busy);
    redis.kill();
    std::thread::scope(|scope| {
        let url = redis.url();
        let second_half = scope.spawn(move || producer(jobs / 2 + 1..=jobs, url));
        std::thread::sleep(std::time::Duration::from_millis(300));
        redis.restart();
        second_half.join().expect("the producer")
    })
}
// ANCHOR_END: crash

// ANCHOR: run
/// One run: the workers start, Redis is killed and restarted under them, and they stop once
/// the queue is drained. Returns the id of each job done (twice if done twice), and reconnections.
fn one_run(redis: &mut RedisServer, api: SocketAddr, args: &Args) -> (Vec<u64>, u64) {
    let ((sender, results), stop) = (mpsc::channel(), AtomicBool::new(false));
    let reconnects = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.workers)
            .map(|n| {
                let (sender, url, stop) = (sender.clone(), redis.url(), &stop);
                scope.spawn(move || worker(&url, &format!("worker-{n}"), sender, stop))
            })
            .collect();
        // Kill once every worker holds a job and one has finished one.
        let producer_reconnects = crash_mid_run(redis, api, args.jobs, args.workers + 1);
        let mut watcher = redis.connect();
        queue::wait_for(|| queue::drained(&mut watcher));
        stop.store(true, Ordering::Relaxed);
        let joined = workers.into_iter().map(|w| w.join().expect("a worker"));
        producer_reconnects + joined.sum::<u64>()
    });
    drop(sender);
    (results.iter().collect(), reconnects)
}
// ANCHOR_END: run

pub fn run(args: Args) -> ExitCode {
    if args.jobs / 2 < args.workers + 3 {
        support::cli::refuse("--jobs must be at least 2 x (--workers + 3): some must wait");
    }
    let api = LatencyServer::start(Config::latency(20)).expect("start the API");
    let mut table =
        Table::new(["Redis", "pushed", "completed", "lost", "done twice", "reconnects", "a write"]);
    let modes = [
        ("in memory", "memory", Durability::InMemory),
        ("AOF, fsync every second", "everysec", Durability::AofEverySec),
        ("AOF, fsync always", "always", Durability::AofAlways),
    ];
    let (jobs, mut lost, mut held) = (args.jobs, Vec::new(), true);
    for (label, name, durability) in modes {
        let mut redis = RedisServer::start_with(durability);
        let (ids, reconnects) = one_run(&mut redis, api.addr(), &args);
        let done = ids.iter().collect::<std::collections::BTreeSet<_>>().len();
        let missing = figure(&format!("{name}_lost"), jobs as f64 - done as f64, "");
        let twice = figure(&format!("{name}_twice"), (ids.len() - done) as f64, "");
        // What durability costs: acknowledged writes, one after another, once restarted.
        let mut connection = redis.connect();
        let (_, spent) = support::timing::time(|| {
            (0..args.writes).for_each(|w| connection.lpush::<_, _, ()>("timing", w).expect("LPUSH"))
        });
        let write = support::timing::us(spent) / args.writes as f64;
        let write = figure(&format!("{name}_write_us"), write, "µs");
        table.cells(&format!("{label}|{jobs}|{done}|{missing}|{twice}|{reconnects}|{write:.0}"));
        // Every worker and the producer reconnected; no job was done twice.
        held &= reconnects > args.workers && twice.value == 0.0;
        lost.push(missing.value);
    }
    table.print();
    verdict(
        "in memory, the crash loses queued jobs; with an append-only file, none, and none done twice",
        held && lost[0] >= 1.0 && lost[1] == 0.0 && lost[2] == 0.0,
        &format!("lost {} in memory, {} and {} with AOF", lost[0], lost[1], lost[2]),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
