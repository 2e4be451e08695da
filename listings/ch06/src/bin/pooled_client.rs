//! A pooling client opens each connection once: its second 10,000 requests reuse the first ones.
//!
//!     cargo run --release -p ch06 --bin pooled_client -- --requests 10000 --latency-ms 1000

use std::process::ExitCode;
use std::time::Instant;

use ch06::requests::{ServerProcess, fetch, serve, tcp_counter};
use support::latency::raise_fd_limit;
use support::report::{Table, figure, verdict};
use support::timing::cpu_time;
use tokio::task::JoinSet;

/// Send N requests at once by hand, then twice through one reqwest Client.
#[derive(clap::Parser)]
pub struct Args {
    /// How many requests to send at once, in each wave.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    requests: u64,
    /// The API's latency, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    latency_ms: u64,
    /// Internal: be the server, in a child process, until standard input closes.
    #[arg(long, hide = true)]
    serve: bool,
}

// ANCHOR: client
/// N GETs at once through one client. A `Client` is a handle to one pool of
/// connections: its clones share the pool, as aiohttp's session does.
async fn wave(client: &reqwest::Client, base: &str, requests: u64) -> usize {
    let mut set = JoinSet::new();
    for page in 0..requests {
        let (client, url) = (client.clone(), format!("{base}/ticker/ACME?page={page}"));
        set.spawn(async move {
            let response = client.get(url).send().await.expect("send");
            assert_eq!(response.status(), reqwest::StatusCode::OK);
            response.bytes().await.expect("receive").len()
        });
    }
    set.join_all().await.into_iter().filter(|&bytes| bytes > 0).count()
}
// ANCHOR_END: client

/// Connections this machine has opened so far (the kernel's `ActiveOpens`).
fn opened() -> u64 {
    tcp_counter("/proc/net/snmp", "Tcp:", "ActiveOpens")
}

/// What one wave cost: its time, its CPU, the connections it opened.
struct Wave {
    answered: usize,
    wall_ms: f64,
    cpu_us_per_request: f64,
    connections: u64,
}

async fn measured<F: Future<Output = usize>>(requests: u64, wave: F) -> Wave {
    let (started, cpu, before) = (Instant::now(), cpu_time(), opened());
    let answered = wave.await;
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    let cpu_us_per_request = (cpu_time() - cpu).as_secs_f64() * 1e6 / requests as f64;
    Wave { answered, wall_ms, cpu_us_per_request, connections: opened() - before }
}

pub fn run(args: Args) -> ExitCode {
    if args.serve {
        return serve(args.latency_ms);
    }
    // Each connection needs a file descriptor; the usual soft limit is 1024.
    let limit = raise_fd_limit();
    let requests = args.requests.min(limit.saturating_sub(100));
    let server = ServerProcess::start("pooled_client", args.latency_ms);
    let (addr, base) = (server.addr, format!("http://{}", server.addr));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    // ANCHOR: waves
    let waves = runtime.expect("build the runtime").block_on(async {
        let by_hand = measured(requests, async {
            let mut set = JoinSet::new();
            for page in 0..requests {
                set.spawn(fetch(addr, page, Instant::now()));
            }
            set.join_all().await.len()
        });
        let by_hand = by_hand.await;
        let client = reqwest::Client::new(); // One pool, kept for both waves.
        let first = measured(requests, wave(&client, &base, requests)).await;
        let second = measured(requests, wave(&client, &base, requests)).await;
        [("by_hand", by_hand), ("reqwest_first", first), ("reqwest_second", second)]
    });
    // ANCHOR_END: waves
    drop(server);

    println!("{requests} requests at once in each wave, latency {} ms", args.latency_ms);
    let mut table =
        Table::new(["client", "requests", "wall", "CPU per request", "connections opened"]);
    for (name, w) in &waves {
        let wall = figure(&format!("{name}_wall_ms"), w.wall_ms, "ms");
        let cpu = figure(&format!("{name}_cpu_us_per_request"), w.cpu_us_per_request, "µs");
        let in_all = w.cpu_us_per_request * requests as f64 / 1e3;
        figure(&format!("{name}_cpu_ms"), in_all, "ms"); // for the twin's comparison
        let opened = figure(&format!("{name}_connections"), w.connections as f64, "connections");
        table.cells(&format!("{name}|{requests}|{wall}|{cpu:.1}|{opened:#}"));
    }
    table.print();
    println!(
        "(CPU: this process's, the client's; connections: the kernel's ActiveOpens, machine-wide)"
    );
    let [(_, by_hand), (_, first), (_, second)] = &waves;
    let all_answered = waves.iter().all(|(_, w)| w.answered as u64 == requests);
    let cpu_ratio =
        figure("pooled_cpu_ratio", first.cpu_us_per_request / second.cpu_us_per_request, "x");
    verdict(
        "a pooling client opens its connections once: its second wave reuses them and opens (almost) none",
        all_answered && second.connections * 100 <= requests && first.connections >= requests / 2,
        &format!(
            "connections opened: by hand {}, first wave {}, second wave {}; CPU per request, first wave / second: {cpu_ratio:.1}",
            by_hand.connections, first.connections, second.connections
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
