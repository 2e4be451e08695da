//! Count the blocks: how many `read` calls does one HTTP response take?

use std::io::{self, Read};

/// Reads one HTTP/1.1 response from `stream` and returns its body (exactly
/// `Content-Length` bytes) and the number of `read` calls it took.
///
/// The stream hands the response over in pieces of any size. Stop reading as
/// soon as the body is complete: on a kept-alive connection one more `read`
/// would block until the server gave up. A stream that ends before the body
/// is complete is an `UnexpectedEof` error.
///
/// Hints: keep what arrived in a `Vec<u8>`; the headers end at the first
/// `\r\n\r\n`; header names are case-insensitive.
#[allow(unused_variables)]
pub fn read_response(stream: &mut impl Read) -> io::Result<(Vec<u8>, usize)> {
    todo!("read until the headers and Content-Length bytes are in, counting the reads")
}
