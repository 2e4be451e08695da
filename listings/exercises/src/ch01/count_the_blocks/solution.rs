//! Count the blocks: how many `read` calls does one HTTP response take?

use std::io::{self, ErrorKind, Read};

/// Reads one HTTP/1.1 response from `stream` and returns its body (exactly
/// `Content-Length` bytes) and the number of `read` calls it took.
///
/// The stream hands the response over in pieces of any size. Stop reading as
/// soon as the body is complete: on a kept-alive connection one more `read`
/// would block until the server gave up. A stream that ends before the body
/// is complete is an `UnexpectedEof` error.
pub fn read_response(stream: &mut impl Read) -> io::Result<(Vec<u8>, usize)> {
    let mut response = Vec::new();
    let mut buffer = [0; 16 * 1024];
    let mut reads = 0;
    loop {
        if let Some(body) = body_if_complete(&response) {
            return Ok((body.to_vec(), reads));
        }
        // Each call blocks until at least one byte is there, then returns what is.
        let n = stream.read(&mut buffer)?;
        reads += 1;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        response.extend_from_slice(&buffer[..n]);
    }
}

/// The body, once the headers and all `Content-Length` bytes have arrived.
fn body_if_complete(response: &[u8]) -> Option<&[u8]> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let headers = std::str::from_utf8(&response[..end]).ok()?;
    let length = headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    })?;
    response.get(end..end + length)
}
