//! The static file server: the built book on 127.0.0.1, for Chromium to load.
//! `cargo xtask serve` (serve.rs) resolves files and their types as it does.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

/// Serves a folder on 127.0.0.1 until dropped: GET only, one thread per
/// connection, `Connection: close`.
pub(super) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub(super) fn start(root: &Path) -> Result<Server> {
        let root = root.canonicalize().with_context(|| format!("no folder {}", root.display()))?;
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let root = root.clone();
                        std::thread::spawn(move || {
                            let _ = serve(&root, stream);
                        });
                    }
                }
            }
        });
        Ok(Server { addr, stop, thread: Some(thread) })
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stop`.
        if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

/// Answers one request on `stream`.
fn serve(root: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut words = request.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, content_type, body) = if method != "GET" {
        ("405 Method Not Allowed", "text/plain", b"GET only\n".to_vec())
    } else {
        match resolve(root, target).and_then(|file| Some((std::fs::read(&file).ok()?, file))) {
            Some((body, file)) => ("200 OK", content_type(&file), body),
            None => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        }
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

/// The file under `root` a request target names, if there is one: the query
/// and fragment dropped, percent-escapes decoded, `..` refused, a folder
/// meaning its `index.html`.
pub(crate) fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?.strip_prefix('/')?;
    let path = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part if part.contains('\\') || part.contains('\0') => return None,
            part => file.push(part),
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Read;

    fn get(server: &Server, request: &str) -> String {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn browser_server_serves_files_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub dir")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(dir.path().join("sub dir/a.svg"), "<svg/>").unwrap();
        std::fs::write(dir.path().join("font.woff2"), "w").unwrap();
        let server = Server::start(dir.path()).unwrap();
        let ok = get(&server, "GET /?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(
            ok.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"),
            "{ok}"
        );
        assert!(ok.ends_with("\r\n\r\n<p>hi</p>"), "{ok}");
        let svg = get(&server, "GET /sub%20dir/a.svg#x HTTP/1.1\r\n\r\n");
        assert!(svg.contains("200 OK\r\nContent-Type: image/svg+xml\r\n"), "{svg}");
        let font = get(&server, "GET /font.woff2 HTTP/1.1\r\n\r\n");
        assert!(font.contains("Content-Type: font/woff2\r\n"), "{font}");
        for missing in ["/nope.html", "/../etc/passwd", "/sub%20dir/../index.html", "/%zz"] {
            let answer = get(&server, &format!("GET {missing} HTTP/1.1\r\n\r\n"));
            assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{missing}: {answer}");
        }
        let post = get(&server, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
        let addr = server.addr;
        drop(server);
        assert!(TcpStream::connect(addr).is_err(), "the server still listens");
    }
}
