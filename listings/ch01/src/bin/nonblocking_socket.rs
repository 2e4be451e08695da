//! A non-blocking read returns WouldBlock at once; polling it burns the CPU the OS would take away.
//!
//!     cargo run --release -p ch01 --bin nonblocking_socket -- --latency-ms 200

use std::io::{self, ErrorKind, Read, Write};
use std::{net::SocketAddr, net::TcpStream, process::ExitCode, time::Instant};

use ch01::http::body_if_complete;
use support::timing::{ms, thread_context_switches, thread_cpu_time, us};
use support::{latency::Config, latency::LatencyServer, report::Table, report::figure};

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
    let mut stream = send_request(server.addr()).expect("send the request");
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
    while body_if_complete(&response).is_none() {
        match stream.read(&mut buffer) {
            Ok(0) => panic!("the server closed the connection early"),
            Ok(n) => response.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => spins += 1,
            Err(e) => panic!("read failed: {e}"),
        }
    }
    let (busy_wall, busy_cpu) = (ms(start.elapsed()), ms(thread_cpu_time() - cpu));
    let busy_switches = thread_context_switches().since(switches);
    // ANCHOR_END: busy_poll

    // ANCHOR: blocking_read
    // The same wait with a blocking socket: read() puts the thread to sleep
    // until bytes arrive, and the CPU is free for anyone else meanwhile.
    let mut stream = send_request(server.addr()).expect("send the request");
    let (start, cpu, switches) = (Instant::now(), thread_cpu_time(), thread_context_switches());
    let (mut response, mut reads) = (Vec::new(), 0u64);
    while body_if_complete(&response).is_none() {
        let n = stream.read(&mut buffer).expect("read the response");
        assert!(n > 0, "the server closed the connection early");
        response.extend_from_slice(&buffer[..n]);
        reads += 1;
    }
    let (blocked_wall, blocked_cpu) = (ms(start.elapsed()), ms(thread_cpu_time() - cpu));
    let blocking_switches = thread_context_switches().since(switches);
    // ANCHOR_END: blocking_read

    let wouldblock = figure("wouldblock_us", us(first_read_took), "µs");
    figure("spins", spins as f64, "reads");
    figure("busy_wall_ms", busy_wall, "ms");
    figure("busy_preempted", busy_switches.involuntary as f64, "times");
    let cpu_ratio = figure("busy_over_blocking_cpu", busy_cpu / blocked_cpu.max(1e-6), "x");
    let busy_share = figure("busy_cpu_share_pct", 100.0 * busy_cpu / busy_wall, "%");
    let blocking_share = figure("blocking_cpu_share_pct", 100.0 * blocked_cpu / blocked_wall, "%");
    let busy_cpu = figure("busy_cpu_ms", busy_cpu, "ms");
    let blocking_cpu = figure("blocking_cpu_ms", blocked_cpu, "ms");
    let columns = ["waiting by", "read calls", "wall", "thread CPU", "CPU share", "blocked"];
    let mut table = Table::new(columns.into_iter().chain(["preempted"]));
    for (label, reads, wall, cpu, share, switches) in [
        ("busy polling", spins + 1, busy_wall, busy_cpu, busy_share, busy_switches),
        ("blocking read", reads, blocked_wall, blocking_cpu, blocking_share, blocking_switches),
    ] {
        let cells = format!("{label}|{reads}|{wall:.0} ms|{cpu:.2}|{share:.1}");
        table.cells(&format!("{cells}|{}|{}", switches.voluntary, switches.involuntary));
    }
    table.print();

    // On a busy machine the spinning thread is preempted and its share drops,
    // so the check compares the CPU both waits burned, not the share; and a
    // preemption can land inside the first read, so "far sooner" means 10x.
    let latency = args.latency_ms as f64;
    support::report::verdict(
        "WouldBlock comes back far sooner than the data; busy polling burns CPU, a blocking read does not",
        wouldblock.value < latency * 100.0 && cpu_ratio.value > 20.0 && blocking_share.value < 20.0,
        &format!(
            "WouldBlock after {wouldblock:.1} of a {latency:.0} ms wait; polling burned {cpu_ratio:.0} the CPU of blocking"
        ),
    )
}

// ANCHOR: helpers
/// Connects and sends one ticker request; the answer comes after the latency.
fn send_request(server: SocketAddr) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(server)?;
    stream.write_all(
        b"GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n",
    )?;
    Ok(stream)
}
// ANCHOR_END: helpers

fn main() -> ExitCode {
    run(support::cli::parse())
}
