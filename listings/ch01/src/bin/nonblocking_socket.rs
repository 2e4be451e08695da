//! A non-blocking read returns WouldBlock at once; polling it burns the CPU the OS would take away.
//!
//!     cargo run --release -p ch01 --bin nonblocking_socket -- --latency-ms 200

use std::io::{self, ErrorKind, Read, Write};
use std::{net::SocketAddr, net::TcpStream, process::ExitCode, time::Instant};

use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
use support::timing::{ms, thread_context_switches, thread_cpu_time, us};

/// Wait for one response twice: by busy-polling a non-blocking socket, then by a blocking read.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
}

pub fn run(args: Args) -> ExitCode {
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the server");
    let (mut response, mut buffer) = (Vec::new(), vec![0; 64 * 1024]);

    // ANCHOR: would_block
    // The request is sent; the answer is due in `latency_ms`. A non-blocking
    // read does not wait for it: it returns at once with WouldBlock.
    let mut stream = send_request(server.addr(), "ACME").expect("send the request");
    stream.set_nonblocking(true).expect("make the socket non-blocking");
    let (start, cpu, switches) = (Instant::now(), thread_cpu_time(), thread_context_switches());
    let first_read = stream.read(&mut buffer);
    let first_read_took = start.elapsed();
    assert_eq!(first_read.unwrap_err().kind(), ErrorKind::WouldBlock);
    // ANCHOR_END: would_block

    // ANCHOR: busy_poll
    // Asking again and again until the data is there: the thread never gives
    // up the CPU, so the OS has no reason to take it away.
    let mut spins = 0u64;
    while !is_complete(&response) {
        match stream.read(&mut buffer) {
            Ok(0) => panic!("the server closed the connection early"),
            Ok(n) => response.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => spins += 1,
            Err(e) => panic!("read failed: {e}"),
        }
    }
    let busy = (start.elapsed(), thread_cpu_time() - cpu);
    let busy_switches = thread_context_switches().since(switches);
    // ANCHOR_END: busy_poll

    // ANCHOR: blocking_read
    // The same wait with a blocking socket: read() puts the thread to sleep
    // until bytes arrive, and the CPU is free for anyone else meanwhile.
    let mut stream = send_request(server.addr(), "ACME").expect("send the request");
    let (start, cpu, switches) = (Instant::now(), thread_cpu_time(), thread_context_switches());
    let mut reads = 0u64;
    response.clear();
    while !is_complete(&response) {
        let n = stream.read(&mut buffer).expect("read the response");
        assert!(n > 0, "the server closed the connection early");
        response.extend_from_slice(&buffer[..n]);
        reads += 1;
    }
    let blocked = (start.elapsed(), thread_cpu_time() - cpu);
    let blocking_switches = thread_context_switches().since(switches);
    // ANCHOR_END: blocking_read

    let wouldblock = figure("wouldblock_us", us(first_read_took), "µs");
    println!("the first non-blocking read returned WouldBlock after {wouldblock:.1}");
    figure("spins", spins as f64, "reads");
    figure("busy_wall_ms", ms(busy.0), "ms");
    figure("busy_preempted", busy_switches.involuntary as f64, "times");
    let busy_cpu = figure("busy_cpu_ms", ms(busy.1), "ms");
    let blocking_cpu = figure("blocking_cpu_ms", ms(blocked.1), "ms");
    let cpu_ratio = busy_cpu.value / blocking_cpu.value.max(1e-6);
    let cpu_ratio = figure("busy_over_blocking_cpu", cpu_ratio, "x");
    let busy_share = figure("busy_cpu_share_pct", 100.0 * busy_cpu.value / ms(busy.0), "%");
    let blocking_share =
        figure("blocking_cpu_share_pct", 100.0 * blocking_cpu.value / ms(blocked.0), "%");
    let columns = ["waiting by", "read calls", "wall", "thread CPU", "CPU share", "blocked"];
    let mut table = Table::new(columns.into_iter().chain(["preempted"]));
    for (label, reads, wall, cpu, share, switches) in [
        ("busy polling", spins + 1, busy.0, busy_cpu, busy_share, busy_switches),
        ("blocking read", reads, blocked.0, blocking_cpu, blocking_share, blocking_switches),
    ] {
        let cells = format!("{label}|{reads}|{:.0} ms|{cpu:.2}|{share:.1}", ms(wall));
        table.cells(&format!("{cells}|{}|{}", switches.voluntary, switches.involuntary));
    }
    table.print();

    // On a busy machine the spinning thread is preempted and its share drops,
    // so the check compares the CPU both waits burned, not the share; and a
    // preemption can land inside the first read, so "far sooner" means 10x.
    let latency = args.latency_ms as f64;
    verdict(
        "WouldBlock comes back far sooner than the data; busy polling burns CPU, a blocking read does not",
        wouldblock.value < latency * 100.0 && cpu_ratio.value > 20.0 && blocking_share.value < 20.0,
        &format!(
            "WouldBlock after {wouldblock:.1} of a {latency:.0} ms wait; polling burned {cpu_ratio:.0} the CPU of blocking"
        ),
    )
}

// ANCHOR: helpers
/// Connects and sends one ticker request; the answer comes after the latency.
fn send_request(server: SocketAddr, symbol: &str) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(server)?;
    let request = format!(
        "GET /ticker/{symbol}?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    Ok(stream)
}

/// Whether the headers and all `Content-Length` bytes of the body have arrived.
fn is_complete(response: &[u8]) -> bool {
    let expected = || {
        let end = response.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let headers = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
        let length = headers.split("content-length:").nth(1)?.lines().next()?;
        Some(end + length.trim().parse::<usize>().ok()?)
    };
    expected().is_some_and(|expected| response.len() >= expected)
}
// ANCHOR_END: helpers

fn main() -> ExitCode {
    run(support::cli::parse())
}
