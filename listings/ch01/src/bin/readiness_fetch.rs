//! One thread waiting on N non-blocking sockets at once does N fetches in about one latency, not N.
//!
//!     cargo run --release -p ch01 --bin readiness_fetch -- --fetches 100 --latency-ms 100

use std::{io::ErrorKind, io::Read, io::Write, process::ExitCode, time::Instant};

use mio::{Events, Interest, Poll, Token, net::TcpStream};
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

// ANCHOR: fetch
/// One fetch: its socket, whether the request went out, what came back.
struct Fetch {
    stream: TcpStream,
    request: String,
    sent: bool,
    response: Vec<u8>,
    done: bool,
}
// ANCHOR_END: fetch

pub fn run(args: Args) -> ExitCode {
    let fetches = args.fetches as usize;
    // Each fetch needs a file descriptor here and one in the server; starting
    // the server raises this process's limit on them as far as it may go.
    let config = Config::latency(args.latency_ms);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let (start, cpu) = (Instant::now(), thread_cpu_time());

    // ANCHOR: register
    // connect() on a non-blocking socket returns at once; the handshake goes on
    // in the kernel. Each socket is registered with the poller under a token:
    // "tell me when socket i can be written to or read from".
    let mut poll = Poll::new().expect("create the poller");
    let mut in_flight: Vec<Fetch> = (0..fetches)
        .map(|i| {
            let mut stream = TcpStream::connect(server.addr()).expect("start connecting");
            let interest = Interest::WRITABLE | Interest::READABLE;
            poll.registry().register(&mut stream, Token(i), interest).expect("register");
            let request = format!(
                "GET /ticker/ACME?page={i} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
            );
            Fetch { stream, request, sent: false, response: Vec::new(), done: false }
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
            let (page, fetch) = (event.token().0, &mut in_flight[event.token().0]);
            if fetch.done {
                continue;
            }
            // Writable once connected: the short request fits the send buffer.
            if event.is_writable() && !fetch.sent && fetch.stream.peer_addr().is_ok() {
                fetch.stream.write_all(fetch.request.as_bytes()).expect("send");
                fetch.sent = true;
            }
            // Readiness is reported once per change, so read until WouldBlock.
            while event.is_readable() {
                match fetch.stream.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => fetch.response.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("read failed: {e}"),
                }
            }
            if let Some(body) = body_if_complete(&fetch.response) {
                bodies_ok +=
                    usize::from(body == ticker_body("ACME", page as u64, config.payload_bytes));
                poll.registry().deregister(&mut fetch.stream).expect("deregister");
                fetch.done = true;
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

/// The body, once the headers and all `Content-Length` bytes have arrived.
fn body_if_complete(response: &[u8]) -> Option<&[u8]> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let headers = std::str::from_utf8(&response[..end]).ok()?.to_ascii_lowercase();
    let length = headers.split("content-length:").nth(1)?.lines().next()?;
    response.get(end..end + length.trim().parse::<usize>().ok()?)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
