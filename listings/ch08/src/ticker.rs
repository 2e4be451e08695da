//! One request to the loopback ticker API (chapter 1's), blocking and async:
//! the unit of work of chapter 8's I/O-bound jobs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ANCHOR: fetch
/// The request for one page; `Connection: close` makes the end of the
/// response the end of the stream.
pub fn request(page: u32) -> String {
    format!("GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

/// One request, blocking: connect, ask for a page, read the answer to its end.
/// It returns the bytes received, so every model can be checked.
pub fn fetch(addr: SocketAddr, page: u32) -> usize {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(request(page).as_bytes()).expect("send");
    stream.read_to_end(&mut Vec::new()).expect("receive")
}

/// The same request for an event loop: the same steps, each awaited.
pub async fn fetch_async(addr: SocketAddr, page: u32) -> usize {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request(page).as_bytes()).await.expect("send");
    stream.read_to_end(&mut Vec::new()).await.expect("receive")
}
// ANCHOR_END: fetch
