//! One ticker fetch on a non-blocking `mio` socket: nothing in it waits, and
//! each readiness event of its socket moves it on.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::TcpStream;

// ANCHOR: fetch
/// One fetch: its socket and, until it has gone out, its request.
pub struct Fetch {
    /// The socket, to register with a poller.
    pub stream: TcpStream,
    request: Option<String>,
}

impl Fetch {
    /// Starts connecting: connect() on a non-blocking socket returns at once,
    /// and the handshake goes on in the kernel.
    pub fn start(server: SocketAddr, page: u64) -> Fetch {
        let stream = TcpStream::connect(server).expect("start connecting");
        let request = format!(
            "GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n"
        );
        Fetch { stream, request: Some(request) }
    }

    /// Serves one readiness event: sends the request once the connection is
    /// up, then hands `on_piece` each piece that has arrived, until the
    /// kernel has no more. Returns true once the server has closed the stream.
    pub fn on_ready(&mut self, buffer: &mut [u8], mut on_piece: impl FnMut(&[u8])) -> bool {
        // A peer address means the connection is up; the short request fits the send buffer.
        if self.stream.peer_addr().is_ok()
            && let Some(request) = self.request.take()
        {
            self.stream.write_all(request.as_bytes()).expect("send");
        }
        // Readiness is reported once per change, so read until WouldBlock.
        loop {
            match self.stream.read(buffer) {
                Ok(0) => return true,
                Ok(n) => on_piece(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }
}
// ANCHOR_END: fetch
