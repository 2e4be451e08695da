//! The built book, checked in a real browser: `book/` is served on 127.0.0.1
//! by a small static file server, Debian's headless Chromium loads every page
//! and this module drives it over the Chrome DevTools Protocol (a WebSocket,
//! spoken synchronously with `tungstenite`).
//!
//! On every chapter page it checks what a reader would meet: no console error
//! or uncaught exception (a missing script, style or image is one), every
//! measured output shown after its `<pre>`, no raw `{{#` directive, every
//! figure an `<svg>` with a `<title>`, every link inside the site leading to
//! a page that exists and to an id on it, and every quiz question answering a
//! wrong choice with "Not quite" and the right one with "Correct", clicked
//! with the mouse. On `index.html` it opens the search, types a term and
//! expects a result linking to the page that has it.
//!
//! Chromium runs in a process group of its own with a fresh profile, and is
//! killed with the server stopped on every way out; every wait has a timeout.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long Chromium may take to start and open its DevTools port.
const LAUNCH: Duration = Duration::from_secs(30);
/// How long one DevTools command may take to be answered.
const CALL: Duration = Duration::from_secs(15);
/// How long a page may take to load.
const LOAD: Duration = Duration::from_secs(20);
/// How long the page may take to react to a click or to the search.
const REACT: Duration = Duration::from_secs(5);
const SEARCH: Duration = Duration::from_secs(10);

/// What the check saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Pages loaded and checked.
    pub pages: usize,
    /// Measured outputs found, each after a non-empty `<pre>`.
    pub outputs: usize,
    /// `figure.workbook-figure` found, each with an `<svg>` and its `<title>`.
    pub figures: usize,
    /// Quiz questions answered, wrong then right.
    pub quizzes: usize,
    /// Links inside the site followed.
    pub links: usize,
    /// Results the search showed for the term.
    pub search_results: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pages in Chromium: {} measured outputs, {} figures, {} quiz questions, {} links, {} search results",
            self.pages, self.outputs, self.figures, self.quizzes, self.links, self.search_results
        )
    }
}

/// Checks the book built in `book_dir` in headless Chromium (`/usr/bin/chromium`,
/// or `$CHROMIUM`). The search on `index.html` must find `search_term` with a
/// result linking to `search_page` (e.g. `ch01.html`).
///
/// Every problem found is reported, each naming its page; a browser that
/// cannot start or stops answering fails the check at once.
pub fn check_site(book_dir: &Path, search_term: &str, search_page: &str) -> Result<Report> {
    let pages = chapter_pages(book_dir)?;
    if pages.is_empty() {
        bail!(
            "{} holds no chapter page; build the book first (cargo xtask book)",
            book_dir.display()
        );
    }
    let server = Server::start(book_dir)?;
    let browser = Browser::launch()?;
    let mut tab = Tab::open(&browser)?;
    let mut report = Report::default();
    let mut problems = Vec::new();
    for page in &pages {
        let html = std::fs::read_to_string(book_dir.join(page))
            .with_context(|| format!("cannot read {page}"))?;
        if let Some(at) = html.find("{{#") {
            let line = html[..at].lines().count().max(1);
            problems.push(format!("{page}: a raw `{{{{#` reached the HTML (line {line})"));
        }
        let seen = tab
            .check_page(&server.url(page))
            .with_context(|| format!("{page}: the browser check could not run"))?;
        report.pages += 1;
        report.outputs += seen.outputs;
        report.figures += seen.figures;
        report.quizzes += seen.questions;
        report.links += seen.links;
        problems.extend(seen.problems.into_iter().map(|p| format!("{page}: {p}")));
    }
    let (results, search_problems) = tab
        .check_search(&server.url("index.html"), search_term, search_page)
        .context("index.html: the search check could not run")?;
    report.search_results = results;
    problems.extend(search_problems.into_iter().map(|p| format!("index.html (search): {p}")));
    drop(tab);
    drop(browser);
    drop(server);
    if !problems.is_empty() {
        bail!(
            "the book in {} has {} problem(s) in the browser:\n  {}",
            book_dir.display(),
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(report)
}

/// Every HTML page under `book_dir` but mdBook's 404, toc and print pages,
/// as `/`-separated paths relative to it, sorted.
fn chapter_pages(book_dir: &Path) -> Result<Vec<String>> {
    fn walk(dir: &Path, prefix: &str, pages: &mut Vec<String>) -> Result<()> {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}{name}");
            if entry.file_type()?.is_dir() {
                walk(&entry.path(), &format!("{path}/"), pages)?;
            } else if name.ends_with(".html")
                && !(prefix.is_empty() && ["404.html", "toc.html", "print.html"].contains(&&*name))
            {
                pages.push(path);
            }
        }
        Ok(())
    }
    let mut pages = Vec::new();
    walk(book_dir, "", &mut pages)?;
    pages.sort();
    Ok(pages)
}

// ---------------------------------------------------------------------------
// The static file server.

/// Serves a folder on 127.0.0.1 until dropped: GET only, one thread per
/// connection, `Connection: close`.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(root: &Path) -> Result<Server> {
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

    fn url(&self, path: &str) -> String {
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
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
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

fn content_type(file: &Path) -> &'static str {
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

// ---------------------------------------------------------------------------
// Chromium.

/// A headless Chromium in its own process group with a fresh profile; killed,
/// helpers included, when dropped.
struct Browser {
    child: Child,
    devtools: String,
    stderr: Arc<Mutex<String>>,
    // Dropped after `drop` has killed Chromium, so nothing writes to it.
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch() -> Result<Browser> {
        let program = std::env::var_os("CHROMIUM")
            .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
        if !program.is_file() {
            bail!(
                "no Chromium at {}: install it (apt-get install chromium) or set CHROMIUM to its path",
                program.display()
            );
        }
        let profile = tempfile::Builder::new()
            .prefix("workbook-chromium-")
            .tempdir()
            .context("cannot make a profile folder for Chromium")?;
        let mut child = Command::new(&program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--mute-audio",
                "--window-size=1280,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        // Read stderr to its end so Chromium never blocks on it; keep its
        // tail for error messages, and watch it for the DevTools address.
        let stderr = Arc::new(Mutex::new(String::new()));
        let (found, listening) = mpsc::channel();
        if let Some(pipe) = child.stderr.take() {
            let tail = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        let _ = found.send(url.trim().to_string());
                    }
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    tail.push_str(&line);
                    tail.push('\n');
                    if tail.len() > 8000 {
                        let cut = tail.len() - 4000;
                        let cut =
                            (cut..tail.len()).find(|&i| tail.is_char_boundary(i)).unwrap_or(0);
                        tail.drain(..cut);
                    }
                }
            });
        }
        let mut browser = Browser { child, devtools: String::new(), stderr, _profile: profile };
        // From here on, dropping `browser` kills Chromium.
        let port_file = browser._profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + LAUNCH;
        browser.devtools = loop {
            if let Ok(url) = listening.try_recv() {
                break url;
            }
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let [port, path, ..] = text.lines().collect::<Vec<_>>()[..]
            {
                break format!("ws://127.0.0.1:{}{}", port.trim(), path.trim());
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                bail!(
                    "Chromium ({}) exited ({status}) before opening its DevTools port:\n{}",
                    program.display(),
                    browser.stderr_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "Chromium did not open its DevTools port within {} s:\n{}",
                    LAUNCH.as_secs(),
                    browser.stderr_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(browser)
    }

    fn stderr_tail(&self) -> String {
        self.stderr.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) takes plain integers; `group` is the group this
        // child leads (`process_group(0)`), not yet reaped, so it is ours.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The DevTools protocol.

/// One DevTools WebSocket, spoken synchronously: a command waits for its
/// answer, and the events that arrive meanwhile are queued.
struct Cdp {
    socket: WebSocket<TcpStream>,
    next_id: u64,
    events: VecDeque<Value>,
}

impl Cdp {
    fn connect(url: &str) -> Result<Cdp> {
        let host = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| anyhow!("not a DevTools WebSocket address: {url}"))?;
        let addr: SocketAddr =
            host.parse().with_context(|| format!("not a DevTools WebSocket address: {url}"))?;
        let stream = TcpStream::connect_timeout(&addr, CALL)
            .with_context(|| format!("cannot connect to Chromium's DevTools at {url}"))?;
        stream.set_read_timeout(Some(CALL))?;
        stream.set_write_timeout(Some(CALL))?;
        let (socket, _) = tungstenite::client(url, stream)
            .map_err(|e| anyhow!("cannot open Chromium's DevTools WebSocket {url}: {e}"))?;
        Ok(Cdp { socket, next_id: 0, events: VecDeque::new() })
    }

    /// The next message, or `None` once `deadline` has passed.
    fn read(&mut self, deadline: Instant) -> Result<Option<Value>> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.socket.get_mut().set_read_timeout(Some(left))?;
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str())
                        .map(Some)
                        .context("Chromium sent a DevTools message that is not JSON");
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => bail!("the DevTools connection to Chromium failed: {e}"),
            }
        }
    }

    /// Sends `method` (to the page `session`, or to the browser) and waits
    /// for its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .with_context(|| format!("cannot send {method} to Chromium"))?;
        let deadline = Instant::now() + CALL;
        loop {
            let Some(message) = self.read(deadline)? else {
                bail!("Chromium did not answer {method} within {} s", CALL.as_secs());
            };
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    bail!("Chromium refused {method}: {}", error["message"]);
                }
                return Ok(message["result"].clone());
            }
            if message.get("method").is_some() {
                self.events.push_back(message);
            }
        }
    }

    /// Waits for the event `method` on `session`, queued or to come.
    fn event(&mut self, session: &str, method: &str, timeout: Duration) -> Result<Option<Value>> {
        let matches = |e: &Value| e["method"] == method && e["sessionId"] == session;
        if let Some(at) = self.events.iter().position(matches) {
            return Ok(self.events.remove(at));
        }
        let deadline = Instant::now() + timeout;
        while let Some(message) = self.read(deadline)? {
            if matches(&message) {
                return Ok(Some(message));
            }
            if message.get("method").is_some() {
                self.events.push_back(message);
            }
        }
        Ok(None)
    }
}

/// What one page showed.
struct Seen {
    outputs: usize,
    figures: usize,
    questions: usize,
    links: usize,
    problems: Vec<String>,
}

/// One page target of the browser, attached over the browser's WebSocket.
struct Tab {
    cdp: Cdp,
    session: String,
}

impl Tab {
    fn open(browser: &Browser) -> Result<Tab> {
        let mut cdp = Cdp::connect(&browser.devtools)?;
        let target = cdp.call(None, "Target.createTarget", json!({"url": "about:blank"}))?;
        let target = target["targetId"]
            .as_str()
            .context("Target.createTarget gave no targetId")?
            .to_string();
        let attached =
            cdp.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true}))?;
        let session = attached["sessionId"]
            .as_str()
            .context("Target.attachToTarget gave no sessionId")?
            .to_string();
        let mut tab = Tab { cdp, session };
        for domain in ["Page", "Runtime", "Log"] {
            tab.call(&format!("{domain}.enable"), json!({}))?;
        }
        Ok(tab)
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.cdp.call(Some(&self.session), method, params)
    }

    /// Loads `url` and waits for its load event.
    fn navigate(&mut self, url: &str) -> Result<()> {
        self.cdp.events.clear();
        let navigated = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(error) = navigated["errorText"].as_str() {
            bail!("cannot load {url}: {error}");
        }
        if self.cdp.event(&self.session, "Page.loadEventFired", LOAD)?.is_none() {
            bail!("{url} did not finish loading within {} s", LOAD.as_secs());
        }
        Ok(())
    }

    /// The value of a JavaScript expression (a promise is awaited).
    fn eval(&mut self, expression: &str) -> Result<Value> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(details) = result.get("exceptionDetails") {
            bail!("the check's script failed: {}", exception_text(details));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `expression` until it is truthy, for at most `timeout`; its last value.
    fn eval_until(&mut self, expression: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(expression)?;
            let truthy = !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy || Instant::now() > deadline {
                return Ok(value);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Clicks, with the mouse, the middle of the element `element` (a
    /// JavaScript expression), scrolled into view; fails if something else
    /// is on top of it there.
    fn click(&mut self, element: &str) -> Result<std::result::Result<(), String>> {
        let point = self.eval(&format!(
            "(() => {{ const el = {element}; if (!el) return 'missing';
                el.scrollIntoView({{block: 'center', inline: 'center'}});
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.height === 0) return 'not displayed';
                const x = r.left + r.width / 2, y = r.top + r.height / 2;
                const hit = document.elementFromPoint(x, y);
                if (!hit || !(hit === el || el.contains(hit) || hit.contains(el))) return 'covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing');
                return [x, y]; }})()"
        ))?;
        let (Some(x), Some(y)) = (point[0].as_f64(), point[1].as_f64()) else {
            return Ok(Err(point.as_str().unwrap_or("cannot be clicked").to_string()));
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1}),
            )?;
        }
        Ok(Ok(()))
    }

    /// The console errors, uncaught exceptions and failed loads reported
    /// since the last navigation, but the failed fetches of `reported`
    /// (broken links, already named).
    fn errors(&mut self, reported: &[String]) -> Result<Vec<String>> {
        // A round trip, so that whatever the page did before it has arrived.
        self.eval("0")?;
        let session = self.session.clone();
        let mut errors = Vec::new();
        for event in self.cdp.events.drain(..) {
            if event["sessionId"] != session.as_str() {
                continue;
            }
            let params = &event["params"];
            match event["method"].as_str() {
                Some("Runtime.exceptionThrown") => errors.push(format!(
                    "uncaught exception: {}",
                    exception_text(&params["exceptionDetails"])
                )),
                Some("Runtime.consoleAPICalled")
                    if matches!(params["type"].as_str(), Some("error" | "assert")) =>
                {
                    let args: Vec<String> = params["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| match &a["value"] {
                            Value::String(s) => s.clone(),
                            Value::Null => a["description"].as_str().unwrap_or("?").to_string(),
                            v => v.to_string(),
                        })
                        .collect();
                    errors.push(format!("console.error: {}", args.join(" ")));
                }
                Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                    let entry = &params["entry"];
                    let url = entry["url"].as_str().unwrap_or("");
                    if entry["source"] == "network" && reported.iter().any(|r| r == url) {
                        continue;
                    }
                    errors.push(format!(
                        "browser error: {}{}",
                        entry["text"].as_str().unwrap_or("?"),
                        if url.is_empty() { String::new() } else { format!(" ({url})") }
                    ));
                }
                _ => {}
            }
        }
        Ok(errors)
    }

    fn check_page(&mut self, url: &str) -> Result<Seen> {
        self.navigate(url)?;
        let found = self.eval(PAGE_CHECK)?;
        let count = |key: &str| found[key].as_u64().unwrap_or(0) as usize;
        let mut seen = Seen {
            outputs: count("outputs"),
            figures: count("figures"),
            questions: 0,
            links: count("links"),
            problems: strings(&found["problems"]),
        };
        let questions = self.eval(QUESTIONS)?;
        for (index, question) in questions.as_array().into_iter().flatten().enumerate() {
            if let Err(problem) = self.answer(index, question)? {
                let id = question["id"].as_str().unwrap_or("");
                let name = if id.is_empty() {
                    format!("quiz question {}", index + 1)
                } else {
                    format!("quiz question {} (#{id})", index + 1)
                };
                seen.problems.push(format!("{name}: {problem}"));
            }
            seen.questions += 1;
        }
        seen.problems.extend(self.errors(&strings(&found["broken"]))?);
        Ok(seen)
    }

    /// Answers question `index` wrong, then right, checking each verdict.
    fn answer(
        &mut self,
        index: usize,
        question: &Value,
    ) -> Result<std::result::Result<(), String>> {
        let values = strings(&question["values"]);
        let Some(answer) = question["answer"].as_str() else {
            return Ok(Err("has no data-answer".into()));
        };
        if !values.iter().any(|v| v == answer) {
            return Ok(Err(format!(
                "data-answer=\"{answer}\" names no choice (the choices' values are {values:?})"
            )));
        }
        let Some(wrong) = values.iter().find(|v| *v != answer) else {
            return Ok(Err("has no wrong choice".into()));
        };
        if !question["inQuiz"].as_bool().unwrap_or(false) {
            return Ok(Err("is not inside a div.quiz".into()));
        }
        if !question["button"].as_bool().unwrap_or(false) {
            return Ok(Err("has no button.quiz-check".into()));
        }
        match question["verdict"].as_str() {
            None => return Ok(Err("has no p.quiz-verdict".into())),
            Some(text) if !text.is_empty() => {
                return Ok(Err(format!("its verdict is not empty before any answer: {text:?}")));
            }
            Some(_) => {}
        }
        let fieldset = format!("document.querySelectorAll('fieldset.quiz-question')[{index}]");
        for (choice, expected) in [(wrong.as_str(), "Not quite"), (answer, "Correct")] {
            let radio = format!(
                "[...{fieldset}.querySelectorAll('input[type=radio]')].find(r => r.value === {})",
                json!(choice)
            );
            if let Err(why) = self.click(&radio)? {
                return Ok(Err(format!("choice {choice} cannot be clicked: {why}")));
            }
            if self.eval_until(&format!("{radio}.checked"), REACT)? != json!(true) {
                return Ok(Err(format!("clicking choice {choice} does not check it")));
            }
            if let Err(why) =
                self.click(&format!("{fieldset}.querySelector('button.quiz-check')"))?
            {
                return Ok(Err(format!("its Check button cannot be clicked: {why}")));
            }
            let verdict = self.eval_until(
                &format!(
                    "(() => {{ const t = {fieldset}.querySelector('.quiz-verdict').textContent.trim(); return t.startsWith({}) ? t : ''; }})()",
                    json!(expected)
                ),
                REACT,
            )?;
            if verdict.as_str().is_none_or(str::is_empty) {
                let shown = self.eval(&format!(
                    "{fieldset}.querySelector('.quiz-verdict').textContent.trim()"
                ))?;
                let which = if choice == answer { "right" } else { "wrong" };
                return Ok(Err(format!(
                    "checking the {which} choice {choice} shows {shown}, not \"{expected}...\""
                )));
            }
        }
        Ok(Ok(()))
    }

    /// Opens the search on `url` with its toggle, types `term`, and expects
    /// a result linking to `page`. The number of results, and the problems.
    fn check_search(&mut self, url: &str, term: &str, page: &str) -> Result<(usize, Vec<String>)> {
        self.navigate(url)?;
        let mut problems = Vec::new();
        // mdBook 0.5 prefixes its ids with `mdbook-`; older ones did not.
        let toggle = "document.querySelector('#mdbook-search-toggle, #search-toggle')";
        let bar = "document.querySelector('#mdbook-searchbar, #searchbar')";
        if let Err(why) = self.click(toggle)? {
            problems.push(format!(
                "the search toggle (#mdbook-search-toggle) cannot be clicked: {why}"
            ));
            return Ok((0, problems));
        }
        let focused = self.eval_until(
            &format!("(() => {{ const b = {bar}; return !!b && b.offsetParent !== null && document.activeElement === b; }})()"),
            REACT,
        )?;
        if focused != json!(true) {
            problems.push("clicking the search toggle does not show and focus the search bar (#mdbook-searchbar)".into());
            return Ok((0, problems));
        }
        for c in term.chars() {
            let key = c.to_string();
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "key": key, "text": key, "unmodifiedText": key}),
            )?;
            self.call("Input.dispatchKeyEvent", json!({"type": "keyUp", "key": key}))?;
        }
        let results = self.eval_until(
            "(() => { const list = document.querySelector('#mdbook-searchresults, #searchresults'); \
             const found = list ? [...list.querySelectorAll('li a[href]')].map(a => new URL(a.href).pathname) : []; \
             return found.length ? found : null; })()",
            SEARCH,
        )?;
        let typed = self.eval(&format!("{bar}.value"))?;
        let results = strings(&results);
        if typed != json!(term) {
            problems.push(format!("typing {term:?} into the search bar left {typed} in it"));
        } else if results.is_empty() {
            problems.push(format!(
                "searching for {term:?} shows no result within {} s",
                SEARCH.as_secs()
            ));
        } else if !results
            .iter()
            .any(|r| r.rsplit('/').next() == Some(page.rsplit('/').next().unwrap_or(page)))
        {
            problems.push(format!(
                "searching for {term:?} shows {} result(s), none linking to {page}: {}",
                results.len(),
                results.join(", ")
            ));
        }
        problems.extend(self.errors(&[])?);
        Ok((results.len(), problems))
    }
}

/// The strings in a JSON array.
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect()
}

/// An exception's message and where it was thrown.
fn exception_text(details: &Value) -> String {
    let message =
        details["exception"]["description"].as_str().or(details["text"].as_str()).unwrap_or("?");
    let message = message.lines().next().unwrap_or(message);
    match details["url"].as_str() {
        Some(url) if !url.is_empty() => {
            format!("{message} ({url}:{})", details["lineNumber"].as_u64().unwrap_or(0) + 1)
        }
        _ => message.to_string(),
    }
}

/// The page's measured outputs, figures and links, checked in the page:
/// `{outputs, figures, links, problems, broken}` (the URLs of broken links).
const PAGE_CHECK: &str = r#"(async () => {
  const problems = [];
  const text = el => (el.textContent || '').trim();
  const short = s => s.length > 70 ? s.slice(0, 70) + '...' : s;

  const outputs = [...document.querySelectorAll('em')]
    .filter(em => text(em).startsWith('Measured output of'));
  outputs.forEach((em, i) => {
    const pre = (em.closest('p') || em).previousElementSibling;
    const what = `measured output ${i + 1} ("${short(text(em))}")`;
    if (!pre || pre.tagName !== 'PRE') {
      problems.push(`${what} does not follow a <pre>`);
    } else if (text(pre.querySelector('code') || pre) === '') {
      problems.push(`${what} follows an empty <pre>`);
    }
  });

  const figures = [...document.querySelectorAll('figure.workbook-figure')];
  figures.forEach((figure, i) => {
    const svg = figure.querySelector('svg');
    const title = svg && svg.querySelector('title');
    if (!svg) {
      problems.push(`figure ${i + 1} has no <svg>`);
    } else if (!title || text(title) === '') {
      problems.push(`figure ${i + 1} has an <svg> without a <title> (or with an empty one)`);
    }
  });

  const here = new URL(location.href);
  here.hash = ''; here.search = '';
  const targets = new Map();
  const broken = [];
  let links = 0;
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    let url;
    try { url = new URL(href, location.href); } catch (e) {
      problems.push(`the link "${short(href)}" is not a URL`);
      continue;
    }
    if (url.origin !== location.origin) continue;
    links++;
    let fragment = url.hash.slice(1);
    try { fragment = decodeURIComponent(fragment); } catch (e) {}
    url.hash = ''; url.search = '';
    if (!targets.has(url.href)) targets.set(url.href, new Map());
    if (fragment) targets.get(url.href).set(fragment, href);
  }
  const path = u => new URL(u).pathname.replace(/^\//, '');
  for (const [target, fragments] of targets) {
    let doc = document;
    if (target !== here.href) {
      let response;
      try { response = await fetch(target, {cache: 'no-store'}); } catch (e) {
        problems.push(`the link to ${path(target)} cannot be fetched: ${e}`);
        continue;
      }
      if (response.status !== 200) {
        problems.push(`the link to ${path(target)} is broken (HTTP ${response.status})`);
        broken.push(target);
        continue;
      }
      if (fragments.size === 0) continue;
      doc = new DOMParser().parseFromString(await response.text(), 'text/html');
    }
    for (const [fragment, href] of fragments) {
      if (!doc.getElementById(fragment) && doc.getElementsByName(fragment).length === 0) {
        problems.push(`the link "${short(href)}" names no id "${fragment}" on ${path(target)}`);
      }
    }
  }
  return {outputs: outputs.length, figures: figures.length, links, problems, broken};
})()"#;

/// What each quiz question holds, before any answer.
const QUESTIONS: &str = r#"[...document.querySelectorAll('fieldset.quiz-question')].map(q => {
  const verdict = q.querySelector('p.quiz-verdict');
  return {
    id: q.id || '',
    answer: q.dataset.answer === undefined ? null : q.dataset.answer.trim(),
    values: [...q.querySelectorAll('input[type=radio]')].map(r => r.value),
    button: !!q.querySelector('button.quiz-check'),
    verdict: verdict ? verdict.textContent.trim() : null,
    inQuiz: !!q.closest('div.quiz'),
  };
})"#;

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Read;

    /// A script with the quiz contract of `theme/quiz.js`.
    const QUIZ_JS: &str = r#"document.addEventListener('click', event => {
  const button = event.target.closest && event.target.closest('.quiz-check');
  if (!button) return;
  const question = button.closest('.quiz-question');
  const picked = question.querySelector('input[type=radio]:checked');
  question.querySelector('.quiz-verdict').textContent =
    picked && picked.value === question.dataset.answer ? 'Correct.' : 'Not quite: try again.';
});
"#;

    fn question(id: &str, answer: usize, choices: usize) -> String {
        let mut html = format!(
            "<fieldset class=\"quiz-question\" id=\"{id}\" data-answer=\"{answer}\"><legend>Q</legend>"
        );
        for i in 0..choices {
            html.push_str(&format!(
                "<label><input type=\"radio\" name=\"{id}\" value=\"{i}\"> choice {i}</label>"
            ));
        }
        html.push_str("<button type=\"button\" class=\"quiz-check\">Check</button><p class=\"quiz-verdict\"></p></fieldset>");
        html
    }

    const CH01: &str = "# Chapter one\n\nThe epoll call waits for many sockets at once.\n\n```text\nwall 12 ms\n```\n\n*Measured output of `cargo run -p ch01`, on a test machine.*\n\n<figure class=\"workbook-figure\"><svg viewBox=\"0 0 10 10\" width=\"200\" height=\"100\" role=\"img\"><title>Wall time against fetches</title><rect width=\"10\" height=\"5\"/></svg><figcaption>A figure. <em>Drawn from the measured output of <code>x</code>.</em></figcaption></figure>\n\nSee [the second section](ch02.md#section-two), [chapter two](ch02.md) and [this one](#chapter-one).\n\n";

    const CH02: &str = "# Chapter two\n\nA zyzzyva is a weevil.\n\n## Section two\n\nBack to [one](ch01.md#chapter-one).\n";

    /// A two-chapter book built with mdBook, with `extra` chapters after
    /// them: (file, title, markdown).
    fn build_book(extra: &[(&str, &str, String)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(
            root.join("book.toml"),
            "[book]\ntitle = \"Fixture\"\nsrc = \"src\"\n\n[output.html]\nadditional-js = [\"quiz.js\"]\n\n[output.html.search]\nenable = true\n",
        )
        .unwrap();
        std::fs::write(root.join("quiz.js"), QUIZ_JS).unwrap();
        let quiz =
            format!("<div class=\"quiz\">{}{}</div>\n", question("q1", 2, 3), question("q2", 0, 2));
        let mut summary =
            String::from("# Summary\n\n- [Chapter one](ch01.md)\n- [Chapter two](ch02.md)\n");
        std::fs::write(root.join("src/ch01.md"), format!("{CH01}{quiz}")).unwrap();
        std::fs::write(root.join("src/ch02.md"), CH02).unwrap();
        for (file, title, markdown) in extra {
            summary.push_str(&format!("- [{title}]({file})\n"));
            std::fs::write(root.join("src").join(file), markdown).unwrap();
        }
        std::fs::write(root.join("src/SUMMARY.md"), summary).unwrap();
        mdbook_driver::MDBook::load(root).unwrap().build().unwrap();
        dir
    }

    #[test]
    fn browser_passes_a_good_book() {
        let book = build_book(&[]);
        let report = check_site(&book.path().join("book"), "epoll", "ch01.html").unwrap();
        // index.html is mdBook's copy of the first chapter.
        assert_eq!(
            report,
            Report {
                pages: 3,
                outputs: 2,
                figures: 2,
                quizzes: 4,
                links: report.links,
                search_results: 1
            }
        );
        assert!(report.links >= 6, "{report}");
    }

    #[test]
    fn browser_names_every_problem_with_its_page() {
        let blocked = format!(
            "# Blocked quiz\n\n<div class=\"quiz\">{}{}</div>\n\n<script>window.addEventListener('click', e => {{ if (e.target.closest('#stuck')) e.stopPropagation(); }}, true);</script>\n",
            question("stuck", 1, 2),
            question("nowhere", 3, 2)
        );
        let extra = [
            (
                "links.md",
                "Links",
                "# Links\n\n[gone](missing.md), [no section](ch02.md#no-such-section), [no anchor here](#nope), [fine](ch02.md#section-two).\n".to_string(),
            ),
            (
                "outputs.md",
                "Outputs",
                "# Outputs\n\n```text\n```\n\n*Measured output of `cargo run -p empty`.*\n\nA paragraph.\n\n*Measured output of `cargo run -p nothing`.*\n".to_string(),
            ),
            (
                "figures.md",
                "Figures",
                "# Figures\n\n<figure class=\"workbook-figure\"><svg viewBox=\"0 0 1 1\"><rect width=\"1\" height=\"1\"/></svg></figure>\n\n<figure class=\"workbook-figure\"><img src=\"chart.png\" alt=\"\"></figure>\n".to_string(),
            ),
            ("quiz.md", "Quiz", blocked),
            (
                "console.md",
                "Console",
                "# Console\n\n<script>console.error('boom from the page');</script>\n\n<script>throw new Error('kaboom');</script>\n".to_string(),
            ),
            (
                "raw.md",
                "Raw",
                "# Raw\n\nA directive nobody resolved: `{{#output ch01/nothing}}`.\n".to_string(),
            ),
        ];
        let book = build_book(&extra);
        let started = Instant::now();
        // "zyzzyva" is only on ch02.
        let error =
            check_site(&book.path().join("book"), "zyzzyva", "ch01.html").unwrap_err().to_string();
        eprintln!("{error}\n(in {:.1} s)", started.elapsed().as_secs_f64());
        for expected in [
            "links.html: the link to missing.html is broken (HTTP 404)",
            "links.html: the link \"ch02.html#no-such-section\" names no id \"no-such-section\" on ch02.html",
            "links.html: the link \"#nope\" names no id \"nope\" on links.html",
            "outputs.html: measured output 1 (\"Measured output of cargo run -p empty.\") follows an empty <pre>",
            "outputs.html: measured output 2 (\"Measured output of cargo run -p nothing.\") does not follow a <pre>",
            "figures.html: figure 1 has an <svg> without a <title>",
            "figures.html: figure 2 has no <svg>",
            "figures.html: browser error: Failed to load resource: the server responded with a status of 404 (Not Found) (http://127.0.0.1:",
            "quiz.html: quiz question 1 (#stuck): checking the wrong choice 0 shows \"\", not \"Not quite...\"",
            "quiz.html: quiz question 2 (#nowhere): data-answer=\"3\" names no choice",
            "console.html: console.error: boom from the page",
            "console.html: uncaught exception: Error: kaboom (http://127.0.0.1:",
            "raw.html: a raw `{{#` reached the HTML",
            "index.html (search): searching for \"zyzzyva\" shows 1 result(s), none linking to ch01.html: /ch02.html",
        ] {
            assert!(error.contains(expected), "missing {expected:?} in:\n{error}");
        }
        assert_eq!(error.matches("\n  ").count(), 14, "{error}");
        for page in ["ch01.html", "ch02.html", "index.html"] {
            let named = format!("\n  {page}:");
            assert!(!error.contains(&named), "{page} has no problem:\n{error}");
        }
    }

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

    #[test]
    fn browser_pages_are_the_chapters() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["index.html", "ch01.html", "print.html", "toc.html", "404.html", "x.css"] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("part")).unwrap();
        std::fs::write(dir.path().join("part/print.html"), "").unwrap();
        assert_eq!(
            chapter_pages(dir.path()).unwrap(),
            ["ch01.html", "index.html", "part/print.html"]
        );
    }
}
