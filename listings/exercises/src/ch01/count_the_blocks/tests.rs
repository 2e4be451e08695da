use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::latency::{Config, LatencyServer, ticker_body};

use crate::ch01::count_the_blocks::read_response;

/// A stream that hands over one piece per `read` call, as a network does, and
/// then fails: a real socket would block there until the server gave up.
struct Pieces(VecDeque<Vec<u8>>, bool);

impl Read for Pieces {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let Some(mut piece) = self.0.pop_front() else {
            return match self.1 {
                true => Ok(0),
                false => Err(io::Error::other("read past the response: this would block")),
            };
        };
        let n = piece.len().min(buffer.len());
        buffer[..n].copy_from_slice(&piece[..n]);
        if n < piece.len() {
            self.0.push_front(piece.split_off(n));
        }
        Ok(n)
    }
}

/// Feeds `pieces` to `read_response`; `ends` says whether the stream ends
/// (read returns 0) after the last piece.
fn check(pieces: &[&str], ends: bool, expected: io::Result<(&str, usize)>) {
    let mut stream = Pieces(pieces.iter().map(|p| p.as_bytes().to_vec()).collect(), ends);
    let got = read_response(&mut stream);
    match (got, expected) {
        (Ok((body, reads)), Ok((expected_body, expected_reads))) => {
            assert_eq!(String::from_utf8_lossy(&body), expected_body);
            assert_eq!(reads, expected_reads, "read calls");
        }
        (Err(e), Err(expected)) => assert_eq!(e.kind(), expected.kind()),
        (got, expected) => panic!("got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn a_response_in_one_piece_takes_one_read() {
    check(&["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"], false, Ok(("hello", 1)));
}

#[test]
fn every_piece_is_one_more_read() {
    let pieces = ["HTTP/1.1 200 OK\r\nConte", "nt-Length: 11\r", "\n\r\nhello", " wor", "ld"];
    check(&pieces, false, Ok(("hello world", 5)));
}

#[test]
fn header_names_are_case_insensitive() {
    check(&["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", "ok"], false, Ok(("ok", 2)));
}

#[test]
fn a_response_that_ends_early_is_an_error() {
    let eof = Err(ErrorKind::UnexpectedEof.into());
    check(&["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"], true, eof);
}

#[test]
fn a_response_sent_in_pieces_over_tcp_takes_many_reads() {
    let config =
        Config::latency(10).with_payload(16 * 1024).with_chunks(2048, Duration::from_millis(5));
    let server = LatencyServer::start(config).unwrap();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    // A read past the response would wait for the server's idle timeout; fail sooner.
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Keep-alive: the server leaves the connection open after the response.
    stream.write_all(b"GET /ticker/ACME?page=7 HTTP/1.1\r\nHost: ticker\r\n\r\n").unwrap();
    let (body, reads) = read_response(&mut stream).unwrap();
    assert_eq!(body, ticker_body("ACME", 7, 16 * 1024));
    assert!(reads > 1, "eight pieces 5 ms apart arrived in {reads} read");
}
