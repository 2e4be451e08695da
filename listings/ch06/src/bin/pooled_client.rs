//! A pooling client opens each connection once: its second 10,000 requests reuse the first ones.
//!
//!     cargo run --release -p ch06 --bin pooled_client -- --requests 10000 --latency-ms 1000

use std::process::ExitCode;
use std::time::Instant;

use ch06::requests::{ServerProcess, fetch, serve, tcp_counter};
use support::latency::raise_fd_limit;
use support::report::{Figure, Table, figure, verdict};
use support::timing::{cpu_time, ms};
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
    #[arg(long, hide = true)] // Internal: be the server, in a child process, until stdin closes.
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

/// Times one wave and reports its figures as `{name}_*`: wall time, CPU per request (this
/// process's: the client's), connections opened (the kernel's `ActiveOpens`, machine-wide).
async fn measured(name: &'static str, requests: u64, wave: impl Future<Output = usize>) -> Wave {
    let opened = || tcp_counter("/proc/net/snmp", "Tcp:", "ActiveOpens") as f64;
    let (started, cpu, before) = (Instant::now(), cpu_time(), opened());
    let answered = wave.await as u64 == requests;
    let (wall, cpu, connections) = (ms(started.elapsed()), ms(cpu_time() - cpu), opened() - before);
    let fig = |what: &str, value, unit| figure(&format!("{name}_{what}"), value, unit);
    fig("cpu_ms", cpu, "ms"); // for the twin's comparison
    let per_request = fig("cpu_us_per_request", cpu * 1e3 / requests as f64, "µs");
    let connections = fig("connections", connections, "connections");
    (name, answered, [fig("wall_ms", wall, "ms"), per_request, connections])
}
/// A wave's name, whether it was answered in full, and its wall time, CPU per request, connections.
type Wave = (&'static str, bool, [Figure; 3]);

pub fn run(args: Args) -> ExitCode {
    if args.serve {
        return serve(args.latency_ms);
    }
    // ANCHOR: waves
    // Each connection needs a file descriptor; the usual soft limit is 1024.
    let requests = args.requests.min(raise_fd_limit().saturating_sub(100));
    let server = ServerProcess::start("pooled_client", args.latency_ms);
    let (addr, base) = (server.addr, format!("http://{}", server.addr));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let waves = runtime.expect("build the runtime").block_on(async {
        let by_hand = measured("by_hand", requests, async {
            let mut set = JoinSet::new();
            for page in 0..requests {
                set.spawn(fetch(addr, page, Instant::now()));
            }
            set.join_all().await.len()
        });
        let by_hand = by_hand.await;
        let client = reqwest::Client::new(); // One pool, kept for both waves.
        let first = measured("reqwest_first", requests, wave(&client, &base, requests)).await;
        let second = measured("reqwest_second", requests, wave(&client, &base, requests)).await;
        [by_hand, first, second]
    });
    // ANCHOR_END: waves
    drop(server);

    let sent = figure("requests", requests as f64, "requests");
    println!("{sent} at once in each wave, latency {} ms", args.latency_ms);
    let mut table =
        Table::new(["client", "requests", "wall", "CPU per request", "connections opened"]);
    for (name, _, [wall, cpu, opened]) in waves {
        table.cells(&format!("{name}|{requests}|{wall}|{cpu:.1}|{opened:#}"));
    }
    table.print();
    println!("(CPU: this process's, the client's; connections: the kernel's, machine-wide)");
    let [(.., [_, _, by_hand]), (.., [_, first_cpu, first]), (.., [_, second_cpu, second])] = waves;
    let cpu_ratio = figure("pooled_cpu_ratio", first_cpu.value / second_cpu.value, "x");
    let answered = waves.iter().all(|wave| wave.1);
    verdict(
        "a pooling client opens its connections once: its second wave reuses them and opens (almost) none",
        answered && second.value * 100.0 <= requests as f64 && first.value >= (requests / 2) as f64,
        &format!(
            "connections opened: by hand {by_hand:#}, first wave {first:#}, second wave {second:#}; CPU per request, first wave / second: {cpu_ratio:.1}"
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
