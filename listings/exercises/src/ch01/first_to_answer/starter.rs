//! First to answer: many requests at once on one thread, results as they come.

use std::io;
use std::net::SocketAddr;

/// Sends `GET /ticker/<symbol>?page=1&latency_ms=<ms>` to `server` for every
/// `(symbol, ms)` in `requests`, all at once, from this one thread with
/// non-blocking sockets and a `mio::Poll`, and returns the symbols in the
/// order their responses were complete.
///
/// Steps: connect a `mio::net::TcpStream` per request and register it with
/// `Token(i)` for `READABLE | WRITABLE`; then loop on `poll.poll`. When a
/// socket is writable (and `peer_addr()` is `Ok`, so it is connected), send
/// its request once. When it is readable, read until `WouldBlock`, and once
/// [`is_complete`] says so, deregister it and record its symbol.
#[allow(unused_variables)]
pub fn first_to_answer(server: SocketAddr, requests: &[(&str, u64)]) -> io::Result<Vec<String>> {
    todo!("connect, register, poll, and record each symbol as its response completes")
}

/// The request for one symbol, answered after `latency_ms`.
pub fn request(symbol: &str, latency_ms: u64) -> String {
    format!(
        "GET /ticker/{symbol}?page=1&latency_ms={latency_ms} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    )
}

/// Whether the headers and all `Content-Length` bytes of the body have arrived.
pub fn is_complete(response: &[u8]) -> bool {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let headers = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let length = headers.split("content-length:").nth(1).and_then(|v| v.lines().next());
    let length = length.and_then(|v| v.trim().parse::<usize>().ok());
    length.is_some_and(|length| response.len() >= end + 4 + length)
}
