//! Past the server's capacity, more requests in flight are no faster: the waiting moves to its queue.
//!
//!     cargo run --release -p ch06 --bin backpressure -- --requests 128 --capacity 16

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use futures::{StreamExt, stream};
use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, series, verdict};
use tokio::sync::{Mutex, Semaphore, mpsc};

/// Send requests with a limit on how many are in flight, against a server of bounded capacity.
#[derive(clap::Parser)]
pub struct Args {
    /// Requests to send for each limit.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(16..=100_000))]
    requests: u64,
    /// Requests the server serves at once; the rest wait in its queue.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..=1024))]
    capacity: u64,
    /// How long the server takes per request, in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    latency_ms: u64,
}

/// One GET over a fresh connection, until the whole response is in: the
/// chapter's `requests::fetch`, whose timestamps are not needed here.
async fn fetch(server: SocketAddr, page: u64) {
    ch06::requests::fetch(server, page, Instant::now()).await;
}

// ANCHOR: limits
/// At most `limit` in flight: `buffer_unordered` polls that many fetches and
/// starts the next one as soon as one is done.
async fn buffer_unordered(server: SocketAddr, requests: u64, limit: usize) {
    let fetches = stream::iter(0..requests).map(|page| fetch(server, page));
    fetches.buffer_unordered(limit).collect::<Vec<()>>().await;
}

/// The same with a semaphore: a task per request, started once it holds a permit.
async fn semaphore(server: SocketAddr, requests: u64, limit: usize) {
    let (permits, mut tasks) = (Arc::new(Semaphore::new(limit)), tokio::task::JoinSet::new());
    for page in 0..requests {
        let permit = permits.clone().acquire_owned().await.expect("never closed");
        tasks.spawn(async move {
            fetch(server, page).await;
            drop(permit)
        });
    }
    tasks.join_all().await;
}

/// The same with `limit` workers reading a bounded channel: the producer's
/// `send` waits while the channel is full.
async fn bounded_channel(server: SocketAddr, requests: u64, limit: usize) {
    let (pages, inbox) = mpsc::channel::<u64>(limit);
    let inbox = Arc::new(Mutex::new(inbox));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..limit {
        let inbox = Arc::clone(&inbox);
        workers.spawn(async move {
            loop {
                // The lock is released at the `;`, before the fetch: one
                // worker waits on the channel, the others fetch meanwhile.
                let page = inbox.lock().await.recv().await;
                let Some(page) = page else { break };
                fetch(server, page).await;
            }
        });
    }
    for page in 0..requests {
        pages.send(page).await.expect("the workers are there");
    }
    drop(pages); // the workers stop once the channel is empty
    workers.join_all().await;
}
// ANCHOR_END: limits

/// The three ways, each as a function that runs the requests under a limit.
type Way = fn(SocketAddr, u64, usize) -> std::pin::Pin<Box<dyn Future<Output = ()>>>;
const WAYS: [(&str, Way); 3] = [
    ("buffer_unordered", |server, n, limit| Box::pin(buffer_unordered(server, n, limit))),
    ("Semaphore", |server, n, limit| Box::pin(semaphore(server, n, limit))),
    ("bounded channel", |server, n, limit| Box::pin(bounded_channel(server, n, limit))),
];

pub fn run(args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (requests, capacity, latency) = (args.requests, args.capacity as usize, args.latency_ms);
    // ANCHOR: sweep
    let mut limits: Vec<usize> =
        (0..).map(|p| 1 << p).take_while(|&l| l < requests as usize).collect();
    limits.push(requests as usize); // no limit: everything at once
    let mut rows = Vec::new();
    for &limit in &limits {
        // buffer_unordered at every limit; the other two ways at the capacity only.
        let ways = if limit == capacity { &WAYS[..] } else { &WAYS[..1] };
        for &(way, limited) in ways {
            // A fresh server for each row: it serves `capacity` requests at
            // once, and the others wait in its queue.
            let config = Config::latency(latency).with_capacity(capacity);
            let server = LatencyServer::start(config).expect("start the server");
            let started = Instant::now();
            runtime.block_on(limited(server.addr(), requests, limit));
            rows.push((limit, way, started.elapsed(), server.peak_waiting()));
        }
    }
    // ANCHOR_END: sweep
    let mut table = Table::new(["limit in flight", "way", "in all", "server's peak queue"]);
    let (mut walls, mut queues) = (Vec::new(), Vec::new());
    for (limit, way, wall, queue) in rows {
        let name = if limit == requests as usize { "all".to_string() } else { limit.to_string() };
        let (wall, queue) = (wall.as_secs_f64() * 1e3, queue as f64);
        table.cells(&format!("{name}|{way}|{wall:.0} ms|{queue}"));
        if way == WAYS[0].0 {
            // The figures and curves follow buffer_unordered.
            walls.push((limit as f64, figure(&format!("wall_ms_{name}"), wall, "ms").value));
            queues.push((limit as f64, figure(&format!("queue_{name}"), queue, "").value));
        }
    }
    table.print();
    println!(
        "({requests} requests a row; the server serves {capacity} at once, {latency} ms each)"
    );
    series("wall_ms_by_limit", "requests in flight", "ms", &walls);
    series("queue_by_limit", "requests in flight", "requests", &queues);
    let knee = limits.iter().position(|&l| l == capacity).unwrap_or(walls.len() - 1);
    let (all, at_knee) = (walls[walls.len() - 1].1, walls[knee].1);
    verdict(
        "up to the capacity, no queue; past it, the queue grows and the time does not fall",
        queues[..=knee].iter().all(|q| q.1 == 0.0)
            && queues[queues.len() - 1].1 > 0.0
            && all > 0.7 * at_knee
            && walls[0].1 > 2.0 * at_knee,
        &format!("{at_knee:.0} ms at {capacity} in flight, {all:.0} ms with all at once"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
