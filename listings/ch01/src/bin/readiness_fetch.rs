//! One thread waiting on N non-blocking sockets at once does N fetches in about one latency, not N.
//!
//!     cargo run --release -p ch01 --bin readiness_fetch -- --fetches 100 --latency-ms 100

use std::{process::ExitCode, time::Instant};

use ch01::fetch::Fetch;
use mio::{Events, Interest, Poll, Token};
use support::latency::{Config, LatencyServer, ticker_body};
use support::report::{Table, figure, verdict};
use support::timing::{ms, thread_cpu_time};

/// Fetch N ticker pages at once from one thread, with mio (epoll on Linux).
#[derive(clap::Parser)]
pub struct Args {
    /// How many pages to fetch at once. Past a few thousand, connections
    /// overflow the server's accept queue (Linux: net.core.somaxconn) and wait
    /// a second for TCP to retry, which is a lesson for another chapter.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=2000))]
    fetches: u64,
    /// The simulated API's latency per request, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
}

pub fn run(args: Args) -> ExitCode {
    let fetches = args.fetches as usize;
    // Each fetch needs a file descriptor here and one in the server; starting
    // the server raises this process's limit on them as far as it may go.
    let config = Config::latency(args.latency_ms);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let (start, cpu) = (Instant::now(), thread_cpu_time());

    // ANCHOR: register
    // Each socket is registered with the poller under a token: "tell me when
    // socket i can be written to or read from".
    let mut poll = Poll::new().expect("create the poller");
    let mut in_flight: Vec<(Fetch, Vec<u8>)> = (0..fetches)
        .map(|i| {
            let mut fetch = Fetch::start(server.addr(), i as u64);
            let interest = Interest::WRITABLE | Interest::READABLE;
            poll.registry().register(&mut fetch.stream, Token(i), interest).expect("register");
            (fetch, Vec::new())
        })
        .collect();
    // ANCHOR_END: register

    // ANCHOR: event_loop
    let (mut events, mut buffer) = (Events::with_capacity(1024), vec![0; 64 * 1024]);
    let (mut remaining, mut polls, mut bodies_ok) = (fetches, 0u64, 0);
    while remaining > 0 {
        // The one place this thread waits: epoll_wait, until some socket is ready.
        poll.poll(&mut events, None).expect("poll");
        polls += 1;
        for event in events.iter() {
            let (page, (fetch, response)) = (event.token().0, &mut in_flight[event.token().0]);
            // Serve the ready socket; at its end, stop watching it and check the body.
            if fetch.on_ready(&mut buffer, |piece| response.extend_from_slice(piece)) {
                poll.registry().deregister(&mut fetch.stream).expect("deregister");
                // The body follows the blank line that ends the head.
                let head = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
                let expected = ticker_body("ACME", page as u64, config.payload_bytes);
                bodies_ok += usize::from(response[head + 4..] == expected[..]);
                remaining -= 1;
            }
        }
    }
    // ANCHOR_END: event_loop

    let (latency, wall, cpu) = (args.latency_ms as f64, start.elapsed(), thread_cpu_time() - cpu);
    let wall = figure("wall_ms", ms(wall), "ms");
    let sequential = figure("sequential_estimate_ms", fetches as f64 * latency, "ms");
    figure("speedup", sequential.value / wall.value, "x");
    let cpu = figure("cpu_ms", ms(cpu), "ms");
    figure("cpu_share_pct", 100.0 * cpu.value / wall.value, "%");
    let polls = figure("polls", polls as f64, "polls");
    let mut table =
        Table::new(["fetches", "latency", "wall", "one after another", "thread CPU", "polls"]);
    table.cells(&format!("{fetches}|{latency:.0} ms|{wall:.0}|{sequential:.0}|{cpu:.1}|{polls:#}"));
    table.print();

    // Generous on purpose: one thread serves every socket, on a noisy machine.
    let one_latency = wall.value >= 0.9 * latency && wall.value < 3.0 * latency + 50.0;
    verdict(
        "N fetches multiplexed on one thread take about one latency, not N",
        bodies_ok == fetches && one_latency,
        &format!("{fetches} x {latency:.0} ms in {wall:.0}, {bodies_ok} bodies complete"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
