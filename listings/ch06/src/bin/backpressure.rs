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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// One GET over a fresh connection, until the whole response is in.
async fn fetch(server: SocketAddr, page: u64) {
    let mut stream = tokio::net::TcpStream::connect(server).await.expect("connect");
    let request = format!(
        "GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("receive");
    assert!(response.starts_with(b"HTTP/1.1 200 OK"), "page {page}");
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
    let workers: Vec<_> = (0..limit)
        .map(|_| {
            let inbox = Arc::clone(&inbox);
            tokio::spawn(async move {
                loop {
                    // The lock is released at the `;`, before the fetch: one
                    // worker waits on the channel, the others fetch meanwhile.
                    let page = inbox.lock().await.recv().await;
                    let Some(page) = page else { break };
                    fetch(server, page).await;
                }
            })
        })
        .collect();
    for page in 0..requests {
        pages.send(page).await.expect("the workers are there");
    }
    drop(pages); // the workers stop once the channel is empty
    futures::future::join_all(workers).await;
}
// ANCHOR_END: limits

pub fn run(args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (requests, capacity) = (args.requests, args.capacity as usize);
    let mut table = Table::new(["limit in flight", "way", "in all", "server's peak queue"]);
    let (mut walls, mut queues) = (Vec::new(), Vec::new());
    let mut limits: Vec<usize> =
        (0..).map(|p| 1 << p).take_while(|&l| l < requests as usize).collect();
    limits.push(requests as usize); // no limit: everything at once
    let ways: [(&str, u8); 3] = [("buffer_unordered", 0), ("Semaphore", 1), ("bounded channel", 2)];
    for &limit in &limits {
        for &(way, n) in ways.iter().filter(|(_, n)| *n == 0 || limit == capacity) {
            let config = Config::latency(args.latency_ms).with_capacity(capacity);
            let server = LatencyServer::start(config).expect("start the server");
            let started = Instant::now();
            runtime.block_on(match n {
                0 => Box::pin(buffer_unordered(server.addr(), requests, limit))
                    as std::pin::Pin<Box<dyn Future<Output = ()>>>,
                1 => Box::pin(semaphore(server.addr(), requests, limit)),
                _ => Box::pin(bounded_channel(server.addr(), requests, limit)),
            });
            let wall = started.elapsed().as_secs_f64() * 1e3;
            let name =
                if limit == requests as usize { "all".to_string() } else { limit.to_string() };
            let queue = server.peak_waiting() as f64;
            if n == 0 {
                let wall = figure(&format!("wall_ms_{name}"), wall, "ms");
                let queue = figure(&format!("queue_{name}"), queue, "");
                table.cells(&format!("{name}|{way}|{wall:.0}|{queue}"));
                walls.push((limit as f64, wall.value));
                queues.push((limit as f64, queue.value));
            } else {
                table.cells(&format!("{name}|{way}|{wall:.0} ms|{queue}"));
            }
        }
    }
    table.print();
    println!(
        "({requests} requests per row; the server serves {capacity} at once, {} ms each)",
        args.latency_ms
    );
    series("wall_ms_by_limit", "requests in flight", "ms", &walls);
    series("queue_by_limit", "requests in flight", "requests", &queues);
    let at = |limit: usize| limits.iter().position(|&l| l == limit);
    let knee = at(capacity).map_or(walls.len() - 1, |i| i);
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

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
