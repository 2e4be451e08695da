//! What chapter 6's request listings share: the request by hand, the
//! latency server in a child process, and the kernel's TCP counters.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use support::child::Reaped;
use support::latency::{Config, LatencyServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ANCHOR: fetch
/// One GET over a raw socket; returns when it was connected and when the
/// whole response was in, both counted from `start`.
pub async fn fetch(server: SocketAddr, page: u64, start: Instant) -> (Duration, Duration) {
    let mut stream = TcpStream::connect(server).await.expect("connect");
    let connected = start.elapsed();
    let request = format!(
        "GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::with_capacity(2048);
    stream.read_to_end(&mut response).await.expect("receive");
    assert!(response.starts_with(b"HTTP/1.1 200 OK"), "page {page}");
    (connected, start.elapsed())
}
// ANCHOR_END: fetch

/// The latency server, in a child process so that each side has its own
/// limit on open files (each connection is one file descriptor on each
/// side). It is killed and reaped when this value is dropped.
pub struct ServerProcess {
    pub addr: SocketAddr,
    _child: Reaped,
}

impl ServerProcess {
    /// Runs `listing` again with `--serve --latency-ms N`, and reads the
    /// address the child prints.
    pub fn start(listing: &str, latency_ms: u64) -> ServerProcess {
        let mut command = support::child::command(listing);
        let command = command.args(["--serve", "--latency-ms", &latency_ms.to_string()]);
        let child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
        let mut child = Reaped(child.expect("start the server process"));
        let mut line = String::new();
        let stdout = BufReader::new(child.0.stdout.take().expect("piped")).read_line(&mut line);
        stdout.expect("the server's address");
        ServerProcess { addr: line.trim().parse().expect("an address"), _child: child }
    }
}

/// The child's part: serve until standard input closes (or the parent dies).
pub fn serve(latency_ms: u64) -> ExitCode {
    let server = LatencyServer::start(Config::latency(latency_ms)).expect("start the server");
    println!("{}", server.addr());
    std::io::stdout().flush().expect("tell the parent where the server is");
    let _ = std::io::stdin().lines().count();
    ExitCode::SUCCESS
}

/// A machine-wide TCP counter of the kernel, such as `TcpExt: ListenOverflows`
/// in `/proc/net/netstat` or `Tcp: ActiveOpens` in `/proc/net/snmp`; 0 if
/// unreadable.
pub fn tcp_counter(file: &str, prefix: &str, name: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|line| line.starts_with(prefix)).collect();
    let [names, values] = lines[..] else {
        return 0;
    };
    let mut pairs = names.split_whitespace().zip(values.split_whitespace());
    pairs.find(|(n, _)| *n == name).and_then(|(_, value)| value.parse().ok()).unwrap_or(0)
}
