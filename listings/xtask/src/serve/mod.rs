//! `cargo xtask serve [--port N]`: the book on 127.0.0.1, built from the
//! committed outputs, rebuilt when a page, quiz, theme file, listing or
//! measured output changes, and every open page reloaded when it is; and
//! under each listing's output, a form to run that listing again on this
//! machine and see its output, its verdict and its figures (`runs.rs`).
//!
//! The watching is inotify's (`watch.rs`: no polling, so at rest the server
//! uses no CPU); the reload is a server-sent event that a script, added to
//! each page as it is served (never to the built files), turns into
//! `location.reload()`. A build that fails leaves the last good one served,
//! and every page shows what failed until a change fixes it. The server
//! answers only requests addressed to it by its own name (`Host:
//! 127.0.0.1:PORT` or `localhost:PORT`), so a web page elsewhere cannot
//! reach it through a DNS name it rebinds to 127.0.0.1. Ctrl-C ends it and
//! the run going, if any.

mod runs;
mod watch;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::browser::server::{content_type, resolve};
use crate::preprocess::Workbook;
use crate::project::Project;
use runs::{MAX_BODY, Request, Runs};
use watch::Watcher;

/// The path of the event stream the pages listen to for a reload.
const EVENTS: &str = "/__workbook/events";

/// What each served page gets before `</body>`: reload on a new build.
const RELOAD: &str =
    "<script>new EventSource(\"/__workbook/events\").onmessage = () => location.reload();</script>";

/// The builds so far, and what the last one said if it failed.
#[derive(Default)]
struct Builds {
    count: u64,
    failure: Option<String>,
}

struct Shared {
    builds: Mutex<Builds>,
    changed: Condvar,
}

/// Builds the book, serves it on 127.0.0.1:`port` (0: any free port), and
/// rebuilds it on every change until the process is stopped.
pub fn serve(project: &Project, port: u16) -> Result<()> {
    let port = start(project, port, true)?;
    eprintln!("serve: the book is at http://127.0.0.1:{port}/ (Ctrl-C stops it)");
    loop {
        std::thread::park();
    }
}

/// Builds the book, then serves and watches it on threads of their own;
/// returns the port. `release`: listings run from the page are built as the
/// book measures them; the tests use the dev profile `cargo xtask test` built.
pub(crate) fn start(project: &Project, port: u16, release: bool) -> Result<u16> {
    let site = project.root.join("book");
    let shared = Arc::new(Shared { builds: Mutex::default(), changed: Condvar::new() });
    build(project, &shared);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let port = listener.local_addr()?.port();
    let runs = Arc::new(Runs::new(project, release, port)?);
    let mut watcher = Watcher::new(project)?;
    std::thread::spawn({
        let (project, shared) = (project.clone(), Arc::clone(&shared));
        move || loop {
            match watcher.wait() {
                Ok(changed) => {
                    eprintln!("serve: {changed} changed; rebuilding");
                    build(&project, &shared);
                }
                Err(error) => {
                    eprintln!("serve: watching stopped: {error:#}");
                    return;
                }
            }
        }
    });
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (site, shared, runs) = (site.clone(), Arc::clone(&shared), Arc::clone(&runs));
            std::thread::spawn(move || {
                let _ = answer(&site, &shared, &runs, port, stream);
            });
        }
    });
    Ok(port)
}

/// Renders the book from the committed outputs, and tells every page.
fn build(project: &Project, shared: &Shared) {
    let started = Instant::now();
    let result = crate::book::render(project, None, Workbook::new(project.clone()));
    let mut builds = shared.builds.lock().unwrap();
    builds.count += 1;
    builds.failure = match result {
        Ok(()) => {
            eprintln!("serve: built in {:.1} s", started.elapsed().as_secs_f64());
            None
        }
        Err(error) => {
            eprintln!("serve: the build failed (the last good one is still served):\n{error:#}");
            Some(format!("{error:#}"))
        }
    };
    shared.changed.notify_all();
}

/// Answers one request: a file of the site, the stream of reloads, or a
/// call about runs.
fn answer(
    site: &Path,
    shared: &Shared,
    runs: &Runs,
    port: u16,
    mut stream: TcpStream,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let Some(request) = read_request(&stream)? else {
        return respond(&mut stream, "400 Bad Request", "text/plain", b"not a request\n");
    };
    stream.set_read_timeout(None)?;
    let host = request.header("host").unwrap_or("");
    let ours = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if !ours.iter().any(|o| o == host) {
        return respond(&mut stream, "421 Misdirected Request", "text/plain", b"not this server\n");
    }
    if Runs::handles(&request.target) {
        return runs.answer(&request, &mut stream);
    }
    if request.method != "GET" {
        return respond(&mut stream, "405 Method Not Allowed", "text/plain", b"GET only\n");
    }
    if request.target == EVENTS {
        return events(shared, stream);
    }
    let Some(file) = resolve(site, &request.target) else {
        return respond(&mut stream, "404 Not Found", "text/plain", b"not found\n");
    };
    let mut body = std::fs::read(&file)?;
    let kind = content_type(&file);
    if kind.starts_with("text/html") {
        let failure = shared.builds.lock().unwrap().failure.clone();
        let page = with_reload(&String::from_utf8_lossy(&body), failure.as_deref());
        body = with_script(&page, &runs.page_script()).into_bytes();
    }
    respond(&mut stream, "200 OK", kind, &body)
}

/// Reads a request's line, headers and body (at most [`MAX_BODY`] bytes);
/// `None` if it is not one.
fn read_request(stream: &TcpStream) -> std::io::Result<Option<Request>> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let (Some(method), Some(target)) = (words.next(), words.next()) else { return Ok(None) };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let mut request = Request { method, target, headers, body: Vec::new() };
    let length: usize = request.header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    if length > MAX_BODY {
        return Ok(None);
    }
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    Ok(Some(request))
}

/// `page` with `script` added before `</body>`.
fn with_script(page: &str, script: &str) -> String {
    match page.rfind("</body>") {
        Some(at) => format!("{}{script}{}", &page[..at], &page[at..]),
        None => format!("{page}{script}"),
    }
}

/// A page with the reload script, and what failed above it if the last
/// build did.
fn with_reload(page: &str, failure: Option<&str>) -> String {
    let mut added = String::new();
    if let Some(failure) = failure {
        added.push_str(&format!(
            "<pre role=\"alert\" style=\"position:fixed;top:0;left:0;right:0;max-height:50vh;overflow:auto;z-index:1000;margin:0;padding:1em;background:#fff0f0;color:#800;border-bottom:2px solid #800\">The last build failed; this page is from the one before.\n\n{}</pre>",
            crate::figure::escape(failure)
        ));
    }
    added.push_str(RELOAD);
    with_script(page, &added)
}

/// Server-sent events: `reload` after each new build, a comment every 20 s
/// so that a closed page is noticed, until the page goes.
fn events(shared: &Shared, mut stream: TcpStream) -> std::io::Result<()> {
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\r\n",
    )?;
    stream.flush()?;
    let mut seen = shared.builds.lock().unwrap().count;
    loop {
        let builds = shared.builds.lock().unwrap();
        let (builds, _) = shared
            .changed
            .wait_timeout_while(builds, Duration::from_secs(20), |b| b.count == seen)
            .unwrap();
        let count = builds.count;
        drop(builds);
        if count == seen {
            stream.write_all(b": still here\n\n")?;
        } else {
            seen = count;
            stream.write_all(b"data: reload\n\n")?;
        }
        stream.flush()?;
    }
}

pub(super) fn respond(
    stream: &mut TcpStream,
    status: &str,
    kind: &str,
    body: &[u8],
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Read;

    fn get(port: u16, host: &str, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn serve_rebuilds_on_a_change_tells_the_page_and_answers_only_its_own_name() {
        let (dir, project) = crate::fixture::workbook();
        let write = |path: &str, text: &str| crate::fixture::write(dir.path(), path, text);
        write(
            "book.toml",
            "[book]\ntitle = \"Fixture\"\nsrc = \"src\"\n\n[build]\nbuild-dir = \"book\"\n",
        );
        write("src/SUMMARY.md", "# Summary\n\n- [One](ch99.md)\n");
        write("src/ch99.md", "# One\n\nIt waited {{#metric ch99/waiting wait}}.\n");
        let port = start(&project, 0, false).unwrap();
        let host = format!("127.0.0.1:{port}");
        let page = get(port, &host, "/ch99.html");
        assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
        assert!(page.contains("It waited 5.12 ms."), "{page}");
        assert!(page.contains(RELOAD), "{page}");
        let rebound = get(port, &format!("evil.example:{port}"), "/ch99.html");
        assert!(rebound.starts_with("HTTP/1.1 421 "), "{rebound}");
        assert!(get(port, &host, "/../book.toml").starts_with("HTTP/1.1 404 "));

        // A page listening for reloads, then an author's edit.
        let mut events = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(events, "GET {EVENTS} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n").unwrap();
        events.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut reader = BufReader::new(events);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "HTTP/1.1 200 OK\r\n");
        std::thread::sleep(Duration::from_millis(200)); // The stream has its build count.
        write("src/ch99.md", "# One\n\nIt waited {{#metric ch99/waiting wait}}, again.\n");
        let reload = loop {
            line.clear();
            reader.read_line(&mut line).expect("a reload within 20 s");
            if line.starts_with("data:") {
                break line.clone();
            }
        };
        assert_eq!(reload, "data: reload\n");
        assert!(get(port, &host, "/ch99.html").contains("It waited 5.12 ms, again."));
        // A broken page: the last good build is served, with what failed.
        write("src/ch99.md", "# One\n\n{{#metric ch99/waiting nothing}}\n");
        let deadline = Instant::now() + Duration::from_secs(20);
        let failed = loop {
            let page = get(port, &host, "/ch99.html");
            if page.contains("The last build failed") || Instant::now() > deadline {
                break page;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(failed.contains("It waited 5.12 ms, again."), "{failed}");
        assert!(failed.contains("reports no metric `nothing`"), "{failed}");
    }

    #[test]
    fn a_served_page_gets_the_reload_script_and_a_failed_build_says_so() {
        let page = "<html><body><p>hi</p></body></html>";
        assert_eq!(with_reload(page, None), format!("<html><body><p>hi</p>{RELOAD}</body></html>"));
        let failed = with_reload(page, Some("src/ch01.md:3: no <metric>"));
        assert!(failed.contains("The last build failed"), "{failed}");
        assert!(failed.contains("src/ch01.md:3: no &lt;metric&gt;</pre>"), "{failed}");
        assert!(failed.ends_with(&format!("{RELOAD}</body></html>")), "{failed}");
    }
}
