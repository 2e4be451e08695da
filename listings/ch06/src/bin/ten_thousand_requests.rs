//! From one thread, 10,000 concurrent requests to a 1 s API take about one latency, not 10,000.
//!
//!     cargo run --release -p ch06 --bin ten_thousand_requests -- --requests 10000 --latency-ms 1000

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ch06::requests::{ServerProcess, fetch, serve, tcp_counter};
use support::latency::raise_fd_limit;
use support::report::{figure, verdict};
use support::timing::{ms, summarize, thread_cpu_time};

/// Send N requests at once from one thread to the loopback ticker API.
#[derive(clap::Parser)]
pub struct Args {
    /// How many requests to send at once.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    requests: u64,
    /// The API's latency, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    latency_ms: u64,
    #[arg(long, hide = true)] // Internal: be the server, in a child process, until stdin closes.
    serve: bool,
}

// ANCHOR: kernel
/// The kernel's count of connections dropped because an accept queue was
/// full, and of SYNs sent again (machine-wide).
fn dropped_and_retried() -> (u64, u64) {
    let counter = |name| tcp_counter("/proc/net/netstat", "TcpExt:", name);
    (counter("ListenOverflows"), counter("TCPSynRetrans"))
}
// ANCHOR_END: kernel

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: limits
    if args.serve {
        return serve(args.latency_ms); // Run again with --serve, this program is the server.
    }
    // Each connection needs a file descriptor; the usual soft limit is 1024.
    let limit = raise_fd_limit();
    let (asked, requests) = (args.requests, args.requests.min(limit.saturating_sub(100)));
    if requests < asked {
        println!("note: this process may open {limit} files: {requests} requests, not {asked}");
    }
    // The server runs in a child process, which has a limit of its own.
    let server = ServerProcess::start("ten_thousand_requests", args.latency_ms);
    let addr = server.addr;
    // ANCHOR_END: limits

    // ANCHOR: ten_thousand
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let (started, cpu, kernel) = (Instant::now(), thread_cpu_time(), dropped_and_retried());
    let results = runtime.expect("build the runtime").block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for page in 0..requests {
            set.spawn(fetch(addr, page, started));
        }
        set.join_all().await // Every response, as one Vec.
    });
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    // ANCHOR_END: ten_thousand
    let cpu = figure("cpu_ms", ms(thread_cpu_time() - cpu), "ms");
    let (overflows, syn_retries) = dropped_and_retried();
    let overflows = figure("accept_queue_overflows", (overflows - kernel.0) as f64, "connections");
    drop(server);

    let latency = args.latency_ms as f64;
    let wall = figure("wall_ms", wall_ms, "ms");
    figure("overhead_ms", wall_ms - latency, "ms");
    let files = figure("fd_limit", limit as f64, "files");
    let in_turn_s = requests as f64 * latency / 1e3;
    let sent = figure("requests", requests as f64, "requests");
    println!("{sent}, latency {latency:.0} ms: {wall:.0} (in turn: {in_turn_s:.0} s)");
    println!("CPU of the client's thread: {cpu:.0}; open files allowed per process: {files:#}");
    // When each request was connected, and answered, counted from the start.
    let times = |pick: fn(&(Duration, Duration)) -> Duration| {
        summarize(&results.iter().map(|r| ms(pick(r))).collect::<Vec<_>>())
    };
    let (connected, answered) = (times(|r| r.0), times(|r| r.1));
    let last = figure("last_connected_ms", connected.max, "ms");
    println!("connected after the start: median {:.0} ms, last {last:.0}", connected.median);
    let first = figure("first_answer_ms", answered.min, "ms");
    let median = figure("median_answer_ms", answered.median, "ms");
    let last = figure("last_answer_ms", answered.max, "ms");
    println!("answered after the start: first {first:.0}, median {median:.0}, last {last:.0}");
    let retries = syn_retries - kernel.1;
    println!("kernel counters: accept queue overflows {overflows:#}, SYNs sent again {retries}");
    // The overhead grows with N: every connection is a handshake, a task, two
    // sockets and a timer, on both sides. It stays far below N latencies.
    verdict(
        "N concurrent requests from one thread take about one latency plus overhead, not N latencies",
        results.len() as u64 == requests && wall_ms >= latency && wall_ms < 10.0 * latency,
        &format!("{requests} x {latency:.0} ms in {wall:.0}"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
