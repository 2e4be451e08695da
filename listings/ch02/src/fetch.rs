//! The blocking fetch that `io_threads` and `convoy` make, one request at a
//! time, to the loopback latency server.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

// ANCHOR: fetch_page
/// One blocking HTTP request over a fresh connection; returns the response.
/// The calling thread sleeps in the kernel until the server answers.
pub fn fetch_page(server: SocketAddr, page: u64) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(server)?;
    let request = format!(
        "GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    if !response.starts_with(b"HTTP/1.1 200 ") {
        return Err(io::Error::other("the server did not answer 200 OK"));
    }
    Ok(response)
}
// ANCHOR_END: fetch_page
