//! Reading an HTTP/1.1 response that arrives in pieces, for the blocking and the
//! non-blocking fetches of `blocking_fetch` and `nonblocking_socket`.

// ANCHOR: body
/// The body, once the headers and all `Content-Length` bytes have arrived.
pub fn body_if_complete(response: &[u8]) -> Option<&[u8]> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let headers = std::str::from_utf8(&response[..end]).ok()?.to_ascii_lowercase();
    let length = headers.split("content-length:").nth(1)?.lines().next()?;
    response.get(end..end + length.trim().parse::<usize>().ok()?)
}
// ANCHOR_END: body
