//! `cargo xtask serve [--port N]`: the book on 127.0.0.1, built from the
//! committed outputs, rebuilt when a page, quiz, theme file, listing or
//! measured output changes, and every open page reloaded when it is.
//!
//! The watching is inotify's (no polling: at rest the server uses no CPU);
//! the reload is a server-sent event that a script, added to each page as it
//! is served (never to the built files), turns into `location.reload()`. A
//! build that fails leaves the last good one served, and every page shows
//! what failed until a change fixes it. The server answers only requests
//! addressed to it by its own name (`Host: 127.0.0.1:PORT` or
//! `localhost:PORT`), so a web page elsewhere cannot reach it through a DNS
//! name it rebinds to 127.0.0.1. It starts no process: Ctrl-C ends it all.

use std::collections::HashMap;
use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::browser::server::{content_type, resolve};
use crate::preprocess::Workbook;
use crate::project::Project;

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
    let port = start(project, port)?;
    eprintln!("serve: the book is at http://127.0.0.1:{port}/ (Ctrl-C stops it)");
    loop {
        std::thread::park();
    }
}

/// Builds the book, then serves and watches it on threads of their own;
/// returns the port.
fn start(project: &Project, port: u16) -> Result<u16> {
    let site = project.root.join("book");
    let shared = Arc::new(Shared { builds: Mutex::default(), changed: Condvar::new() });
    build(project, &shared);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let port = listener.local_addr()?.port();
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
            let (site, shared) = (site.clone(), Arc::clone(&shared));
            std::thread::spawn(move || {
                let _ = answer(&site, &shared, port, stream);
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

/// Answers one request: a file of the site, or the stream of reloads.
fn answer(site: &Path, shared: &Shared, port: u16, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut host = String::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("host")
        {
            host = value.trim().to_string();
        }
    }
    let mut stream = stream;
    let mut words = request.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let ours = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if !ours.contains(&host) {
        return respond(&mut stream, "421 Misdirected Request", "text/plain", b"not this server\n");
    }
    if method != "GET" {
        return respond(&mut stream, "405 Method Not Allowed", "text/plain", b"GET only\n");
    }
    if target == EVENTS {
        return events(shared, stream);
    }
    let Some(file) = resolve(site, target) else {
        return respond(&mut stream, "404 Not Found", "text/plain", b"not found\n");
    };
    let mut body = std::fs::read(&file)?;
    let kind = content_type(&file);
    if kind.starts_with("text/html") {
        let failure = shared.builds.lock().unwrap().failure.clone();
        body = with_reload(&String::from_utf8_lossy(&body), failure.as_deref()).into_bytes();
    }
    respond(&mut stream, "200 OK", kind, &body)
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
    match page.rfind("</body>") {
        Some(at) => format!("{}{added}{}", &page[..at], &page[at..]),
        None => format!("{page}{added}"),
    }
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

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// The folders whose files the book is built from, watched with inotify.
struct Watcher {
    fd: i32,
    folders: HashMap<i32, PathBuf>,
    project: Project,
}

impl Watcher {
    fn new(project: &Project) -> Result<Watcher> {
        // SAFETY: inotify_init1 takes flags only; a negative result is an error.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
        if fd < 0 {
            bail!("inotify_init1 failed: {}", std::io::Error::last_os_error());
        }
        let mut watcher = Watcher { fd, folders: HashMap::new(), project: project.clone() };
        watcher.watch_all()?;
        Ok(watcher)
    }

    /// Watches every folder the book reads (again: new folders join).
    fn watch_all(&mut self) -> Result<()> {
        let root = &self.project.root;
        let workspace = self.project.workspace();
        let mut folders = vec![root.clone()];
        for top in [root.join("src"), root.join("quizzes"), root.join("theme")] {
            folders.extend(tree(&top));
        }
        for package in std::fs::read_dir(&workspace)? {
            let package = package?.path();
            let name = package.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == "target" || name.starts_with('.') || !package.is_dir() {
                continue;
            }
            folders.extend(tree(&package));
        }
        for folder in folders {
            let path = CString::new(folder.as_os_str().as_bytes())?;
            let events =
                libc::IN_CLOSE_WRITE | libc::IN_MOVED_TO | libc::IN_DELETE | libc::IN_CREATE;
            // SAFETY: `path` is a valid C string for the length of the call.
            let wd = unsafe { libc::inotify_add_watch(self.fd, path.as_ptr(), events) };
            if wd >= 0 {
                self.folders.insert(wd, folder);
            }
        }
        Ok(())
    }

    /// Blocks until a file the book reads changes, then lets a burst of
    /// changes (an editor's save, a measurement) settle; names one of them.
    fn wait(&mut self) -> Result<String> {
        loop {
            let changed = self.read(None)?;
            let Some(first) = changed.into_iter().find(|path| self.matters(path)) else {
                continue;
            };
            while !self.read(Some(Duration::from_millis(300)))?.is_empty() {}
            self.watch_all()?;
            return Ok(self.project.relative(&first));
        }
    }

    /// The book reads this file: not the build's output, not an editor's
    /// swap file, and at the top only `book.toml`.
    fn matters(&self, path: &Path) -> bool {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let at_top = path.parent() == Some(self.project.root.as_path());
        !(name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp"))
            && (!at_top || name == "book.toml")
    }

    /// The paths of the next events; with a timeout, none if none came.
    fn read(&mut self, timeout: Option<Duration>) -> Result<Vec<PathBuf>> {
        if let Some(timeout) = timeout {
            let mut poll = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
            let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: one valid pollfd, for the length of the call.
            if unsafe { libc::poll(&mut poll, 1, ms) } <= 0 {
                return Ok(Vec::new());
            }
        }
        let mut buffer = [0u8; 16 * 1024];
        // SAFETY: reads at most the buffer's length into it.
        let read = unsafe { libc::read(self.fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        if read < 0 {
            bail!("reading inotify events failed: {}", std::io::Error::last_os_error());
        }
        let (mut paths, mut at) = (Vec::new(), 0);
        let header = std::mem::size_of::<libc::inotify_event>();
        while at + header <= read as usize {
            // SAFETY: the kernel wrote a whole event at `at`; read_unaligned
            // copes with its alignment in a byte buffer.
            let event: libc::inotify_event =
                unsafe { std::ptr::read_unaligned(buffer.as_ptr().add(at).cast()) };
            let name = &buffer[at + header..at + header + event.len as usize];
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            if let Some(folder) = self.folders.get(&event.wd) {
                paths.push(folder.join(std::ffi::OsStr::from_bytes(name)));
            }
            at += header + event.len as usize;
        }
        Ok(paths)
    }
}

/// A folder and every folder under it.
fn tree(top: &Path) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    let mut stack = vec![top.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        folders.push(folder);
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    folders
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
        let port = start(&project, 0).unwrap();
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
