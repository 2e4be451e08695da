//! First to answer: many requests at once on one thread, results as they come.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// Sends `GET /ticker/<symbol>?page=1&latency_ms=<ms>` to `server` for every
/// `(symbol, ms)` in `requests`, all at once, from this one thread with
/// non-blocking sockets and a `mio::Poll`, and returns the symbols in the
/// order their responses were complete.
pub fn first_to_answer(server: SocketAddr, requests: &[(&str, u64)]) -> io::Result<Vec<String>> {
    let mut poll = Poll::new()?;
    let mut streams = Vec::new();
    for (i, (symbol, latency_ms)) in requests.iter().enumerate() {
        let mut stream = TcpStream::connect(server)?;
        poll.registry().register(&mut stream, Token(i), Interest::READABLE | Interest::WRITABLE)?;
        streams.push((stream, request(symbol, *latency_ms), false, Vec::new()));
    }
    let (mut events, mut buffer, mut answered) = (Events::with_capacity(64), [0; 4096], Vec::new());
    while answered.len() < requests.len() {
        // Sleep until some socket is ready; then serve each one that is.
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            let (stream, request, sent, response) = &mut streams[event.token().0];
            if event.is_writable() && !*sent && stream.peer_addr().is_ok() {
                stream.write_all(request.as_bytes())?;
                *sent = true;
            }
            // Readiness is reported once per change: read until WouldBlock.
            loop {
                match stream.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => response.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            if is_complete(response) {
                poll.registry().deregister(stream)?;
                response.clear();
                answered.push(requests[event.token().0].0.to_string());
            }
        }
    }
    Ok(answered)
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
