//! Running a listing from its page, when the book is served by `cargo
//! xtask serve`: the form's flags, one run at a time with its output
//! streamed to the page, cancelling it, and the figures it feeds drawn
//! again with its series beside the book's.
//!
//! Secure by construction. Every call but the script itself must carry the
//! session's token (made at start, written only into the pages this server
//! serves, so no other web page can read it) and, when the browser names
//! one, this server's own Origin; a POST must name it. Only the book's own
//! listings run, by id, with flags the listing describes (`--describe-flags`)
//! given as `--name=value`, checked by the listing's own parser
//! (`--check-flags`) before anything starts. A run is bounded in time and
//! runs in a process group of its own, which is killed when it is cancelled,
//! when it passes its limit, when the page goes, and when the server stops.
//! The committed outputs are never written. A flag that needs privileges
//! (root, a network namespace) is not offered: no listing has one today, and
//! one that did would hide it (`#[arg(hide = true)]`), which keeps it out of
//! `--describe-flags`, so out of the form, and refused here.
//!
//! The calls: `GET /__workbook/run.js` (the page's script), `GET
//! /__workbook/flags?listing=ID`, `POST /__workbook/run` (a JSON body:
//! `listing`, `args`, `figures`; the answer is one JSON object per line,
//! streamed: `started`, `stdout`, `stderr`, `tick`, then `done`) and `POST
//! /__workbook/cancel`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::bad_input::{CHECK, DESCRIBE};
use crate::figure::{Spec, figure_labelled};
use crate::output::{Output, format_figure};
use crate::project::{Listing, Project};
use crate::run::{Program, Reported, group_is_alive, kill_group, programs};

/// The page's script, served at [`SCRIPT`].
const RUN_JS: &str = include_str!("run.js");
/// Where the page's script is served.
pub(super) const SCRIPT: &str = "/__workbook/run.js";
/// The header that carries the session's token.
const TOKEN_HEADER: &str = "x-workbook-token";
/// The largest request body taken: a listing id, its flags, figure specs.
pub(super) const MAX_BODY: usize = 64 * 1024;

/// A request as the server read it.
pub(super) struct Request {
    pub method: String,
    pub target: String,
    /// Each header, its name in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Refused or failed: an HTTP status and one line saying why.
struct Refusal(&'static str, String);

type Answer<T> = Result<T, Refusal>;

fn refuse<T>(status: &'static str, why: impl Into<String>) -> Answer<T> {
    Err(Refusal(status, why.into()))
}

/// The run going now: its process group and whether it was cancelled.
struct Running {
    listing: String,
    group: libc::pid_t,
    cancelled: Arc<AtomicBool>,
}

/// The runs of one server.
pub(super) struct Runs {
    project: Project,
    /// Whether listings run as the book measures them (release), or in the
    /// dev profile that `cargo xtask test` has already built.
    release: bool,
    token: String,
    port: u16,
    running: Mutex<Option<Running>>,
}

impl Runs {
    pub fn new(project: &Project, release: bool, port: u16) -> std::io::Result<Runs> {
        let mut bytes = [0u8; 16];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Runs { project: project.clone(), release, token, port, running: Mutex::new(None) })
    }

    /// What each served page gets: the token, and the script that finds the
    /// listings' output blocks and offers to run them.
    pub fn page_script(&self) -> String {
        format!(
            "<script>window.WORKBOOK_RUN = {{token: \"{}\"}};</script><script src=\"{SCRIPT}\"></script>",
            self.token
        )
    }

    /// Whether `target` is one of these calls.
    pub fn handles(target: &str) -> bool {
        let path = target.split('?').next().unwrap_or("");
        [SCRIPT, "/__workbook/flags", "/__workbook/run", "/__workbook/cancel"].contains(&path)
    }

    /// Answers one call; a run streams its answer until it ends.
    pub fn answer(&self, request: &Request, stream: &mut TcpStream) -> std::io::Result<()> {
        let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
        if (request.method.as_str(), path) == ("GET", SCRIPT) {
            return super::respond(stream, "200 OK", "text/javascript", RUN_JS.as_bytes());
        }
        let answered = self.allowed(request).and_then(|()| match (request.method.as_str(), path) {
            ("GET", "/__workbook/flags") => self.flags(query).map(Some),
            ("POST", "/__workbook/run") => self.run(&request.body, stream).map(|()| None),
            ("POST", "/__workbook/cancel") => Ok(Some(self.cancel())),
            _ => {
                refuse("405 Method Not Allowed", format!("{} {path} is not a call", request.method))
            }
        });
        match answered {
            Ok(Some(value)) => json_response(stream, "200 OK", &value),
            Ok(None) => Ok(()),
            Err(Refusal(status, why)) => json_response(stream, status, &json!({"error": why})),
        }
    }

    /// Refuses a call from another origin, or without this session's token.
    fn allowed(&self, request: &Request) -> Answer<()> {
        let ours =
            [format!("http://127.0.0.1:{}", self.port), format!("http://localhost:{}", self.port)];
        match request.header("origin") {
            Some(origin) if !ours.iter().any(|o| o == origin) => {
                return refuse(
                    "403 Forbidden",
                    format!("a page of {origin} may not run listings here"),
                );
            }
            None if request.method == "POST" => {
                return refuse("403 Forbidden", "a POST must say its Origin");
            }
            _ => {}
        }
        // Compared whole, in constant time: the token is the secret.
        let given = request.header(TOKEN_HEADER).unwrap_or("").as_bytes();
        let expected = self.token.as_bytes();
        let differs = given.len() != expected.len()
            || given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0;
        if differs {
            return refuse(
                "403 Forbidden",
                "wrong or missing token: reload the page from `cargo xtask serve`",
            );
        }
        Ok(())
    }

    /// The listing `id`, if it is one of the book's and runs.
    fn listing(&self, id: &str) -> Answer<Listing> {
        let listings = self
            .project
            .listings()
            .map_err(|e| Refusal("500 Internal Server Error", format!("{e:#}")))?;
        let Some(listing) = listings.into_iter().find(|l| l.id() == id) else {
            return refuse("404 Not Found", format!("the book has no listing `{id}`"));
        };
        if listing.spec.compile_fail.is_some() {
            return refuse(
                "400 Bad Request",
                format!("{id} is a compiler error to read, not a program to run"),
            );
        }
        Ok(listing)
    }

    /// The listing's program, built if it is not (cargo says nothing new
    /// when it is).
    fn program(&self, listing: &Listing) -> Answer<Program> {
        let built =
            programs(&self.project, std::slice::from_ref(listing), self.release).map_err(|e| {
                Refusal("500 Internal Server Error", format!("cannot build {listing}: {e:#}"))
            })?;
        built.get(&listing.id()).cloned().ok_or_else(|| {
            Refusal("500 Internal Server Error", format!("no program for {listing}"))
        })
    }

    /// `GET /__workbook/flags?listing=ID`: what the form needs.
    fn flags(&self, query: &str) -> Answer<Value> {
        let id = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("listing="))
            .map(|id| id.replace("%2F", "/").replace("%2f", "/"))
            .ok_or_else(|| {
                Refusal("400 Bad Request", "name a listing: ?listing=chNN/name".into())
            })?;
        let listing = self.listing(&id)?;
        let program = self.program(&listing)?;
        Ok(json!({
            "listing": id,
            "flags": describe(&listing, &program)?,
            "book": listing.spec.args,
            "quick": listing.spec.quick,
            "limit_s": limit(&listing).as_secs(),
            "command": listing.command(&[]),
        }))
    }

    /// `POST /__workbook/cancel`: ends the run going now, if any.
    fn cancel(&self) -> Value {
        match &*self.running.lock().unwrap() {
            Some(running) => {
                running.cancelled.store(true, Ordering::SeqCst);
                kill_group(running.group);
                json!({"cancelled": running.listing})
            }
            None => json!({"cancelled": null}),
        }
    }

    /// `POST /__workbook/run`: checks everything, then runs the listing and
    /// streams what it prints.
    fn run(&self, body: &[u8], stream: &mut TcpStream) -> Answer<()> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Asked {
            listing: String,
            args: Vec<String>,
            #[serde(default)]
            figures: Vec<String>,
        }
        let asked: Asked = serde_json::from_slice(body)
            .map_err(|e| Refusal("400 Bad Request", format!("not a run: {e}")))?;
        let listing = self.listing(&asked.listing)?;
        let program = self.program(&listing)?;
        check_flags(&listing, &program, &asked.args)?;
        let cancelled = Arc::new(AtomicBool::new(false));
        let folder =
            || tempfile::tempdir().map_err(|e| Refusal("500 Internal Server Error", e.to_string()));
        let (scratch, records) = (folder()?, folder()?);
        let metrics = records.path().join("metrics.jsonl");
        let (mut child, _slot) = {
            let mut running = self.running.lock().unwrap();
            if let Some(running) = &*running {
                return refuse(
                    "409 Conflict",
                    format!("{} is running: wait for it, or cancel it", running.listing),
                );
            }
            let child = start(&program, &asked.args, scratch.path(), &metrics)?;
            let group = child.id() as libc::pid_t;
            *running =
                Some(Running { listing: listing.id(), group, cancelled: Arc::clone(&cancelled) });
            (child, Slot { runs: self, group, _watched: crate::run::watch_group(group) })
        };
        // From here on the answer is a stream; a page that goes ends the run.
        let asked_for = (asked.args.as_slice(), asked.figures.as_slice());
        let _ = self.stream(&listing, &mut child, asked_for, &metrics, &cancelled, stream);
        Ok(())
    }

    fn stream(
        &self,
        listing: &Listing,
        child: &mut Child,
        (args, figures): (&[String], &[String]),
        metrics: &Path,
        cancelled: &AtomicBool,
        stream: &mut TcpStream,
    ) -> std::io::Result<()> {
        let group = child.id() as libc::pid_t;
        let started = Instant::now();
        let limit = limit(listing);
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        )?;
        send(
            stream,
            &json!({"kind": "started", "command": listing.command(args), "limit_s": limit.as_secs(), "group": group}),
        )?;
        let (lines, received) = mpsc::channel();
        let stdout = child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>);
        let stderr = child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>);
        for (pipe, kind) in [(stdout, "stdout"), (stderr, "stderr")] {
            let Some(pipe) = pipe else { continue };
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if lines.send((kind, line, Instant::now())).is_err() {
                        break;
                    }
                }
            });
        }
        drop(lines);
        let (mut ended, mut timed_out, mut last_tick) = (None, false, Instant::now());
        loop {
            match received.recv_timeout(Duration::from_millis(100)) {
                // `at_ms`: when it was read, a moment after the listing printed
                // it; the page measures how late it arrives.
                Ok((kind, line, read)) => {
                    let at_ms = read.duration_since(started).as_millis() as u64;
                    send(stream, &json!({"kind": kind, "line": line, "at_ms": at_ms}))?
                }
                Err(RecvTimeoutError::Disconnected) if ended.is_some() => break,
                // Its output closed, it still runs: wait without spinning.
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if ended.is_none() {
                ended = child.try_wait()?;
                if ended.is_some() {
                    // What it started gets a moment to end by itself, then the
                    // group goes, which closes the pipes.
                    let grace = Instant::now();
                    while !cancelled.load(Ordering::SeqCst)
                        && group_is_alive(group)
                        && grace.elapsed() < Duration::from_secs(2)
                    {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    kill_group(group);
                }
            }
            if ended.is_none() && (cancelled.load(Ordering::SeqCst) || started.elapsed() > limit) {
                timed_out = !cancelled.load(Ordering::SeqCst);
                kill_group(group);
                ended = Some(child.wait()?);
            }
            if last_tick.elapsed() > Duration::from_secs(1) {
                last_tick = Instant::now();
                send(stream, &json!({"kind": "tick", "elapsed_s": started.elapsed().as_secs()}))?;
            }
        }
        let status = ended.expect("the loop ends when the listing has");
        // Cancelled from the page: the group may have gone before the loop saw it.
        let why = match (cancelled.load(Ordering::SeqCst), timed_out) {
            (true, _) => Some("cancelled".to_string()),
            (false, true) => Some(format!("stopped at its limit of {} s", limit.as_secs())),
            (false, false) => None,
        };
        let reported = crate::run::read_reported(metrics).unwrap_or_default();
        let state = match (&why, &reported.verdict, status.code()) {
            (Some(_), _, _) => "stopped".to_string(),
            (None, Some(verdict), _) => verdict.state.clone(),
            (None, None, Some(0)) => "ended".to_string(),
            (None, None, Some(2)) => "refused".to_string(),
            (None, None, _) => "crashed".to_string(),
        };
        let problem = why.clone().or_else(|| crate::run::judge(status, reported.verdict.as_ref()));
        let book = Output::load(&self.project.output_path(listing)).ok();
        let done = json!({
            "kind": "done",
            "state": state,
            "status": status.to_string(),
            "problem": problem,
            "verdict": reported.verdict.as_ref().map(|v| json!({"state": v.state, "claim": v.claim, "evidence": v.evidence})),
            "elapsed_s": started.elapsed().as_secs_f64(),
            "metrics": compared(&reported, book.as_ref()),
            "figures": figures.iter().filter(|_| why.is_none()).filter_map(|spec| self.redraw(listing, spec, &reported)).collect::<Vec<_>>(),
        });
        send(stream, &done)
    }

    /// The figure `spec` (a `{{#figure}}`'s words) drawn again with the
    /// run's series beside the book's, if the listing feeds it.
    fn redraw(&self, listing: &Listing, spec: &str, reported: &Reported) -> Option<Value> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let spec_parsed = Spec::parse(&words).ok()?;
        let id = listing.id();
        if !spec_parsed.lines.iter().any(|(source, _)| *source == id) {
            return None;
        }
        let drawn = (|| -> Result<String, String> {
            let mut outputs = Vec::new();
            let listings = self.project.listings().map_err(|e| format!("{e:#}"))?;
            for (source, _) in &spec_parsed.lines {
                let found = self.project.find(&listings, source).map_err(|e| format!("{e:#}"))?;
                outputs.push(
                    Output::load(&self.project.output_path(found)).map_err(|e| format!("{e:#}"))?,
                );
            }
            let ours = spec_parsed.lines.iter().position(|(s, _)| *s == id).unwrap();
            let mut this_run = outputs[ours].clone();
            this_run.series = reported.series.clone();
            let mut lines: Vec<(&Output, &str, Option<String>)> = spec_parsed
                .lines
                .iter()
                .zip(&outputs)
                .map(|((_, name), output)| (output, name.as_str(), None))
                .collect();
            for (source, name) in &spec_parsed.lines {
                if *source != id {
                    continue;
                }
                if !this_run.series.contains_key(name) {
                    return Err(format!("this run reported no series `{name}`"));
                }
                lines.push((&this_run, name.as_str(), Some(format!("{name} (this run)"))));
            }
            let drawn = figure_labelled(
                &lines,
                spec_parsed.log_x,
                spec_parsed.log_y,
                &spec_parsed.caption,
            )?;
            Ok(drawn.replacen(
                "</figcaption>",
                " <strong>With this run from the page, on this machine, beside the book’s.</strong></figcaption>",
                1,
            ))
        })();
        Some(match drawn {
            Ok(html) => json!({"spec": spec, "html": html}),
            Err(error) => json!({"spec": spec, "error": error}),
        })
    }
}

/// Frees the one run's slot, and ends its process group, on every way out
/// of a run (a panic too).
struct Slot<'a> {
    runs: &'a Runs,
    group: libc::pid_t,
    /// Listed for the handler that ends it when the server is stopped.
    _watched: crate::run::Watched,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        kill_group(self.group);
        *self.runs.running.lock().unwrap() = None;
    }
}

/// How long a run from the page may take: twice the book's own limit for
/// the listing, and at least two minutes.
fn limit(listing: &Listing) -> Duration {
    Duration::from_secs((2 * listing.spec.timeout_s).max(120))
}

/// The listing's visible flags, as it describes them.
fn describe(listing: &Listing, program: &Program) -> Answer<Value> {
    let output = bounded(program.command(&[DESCRIBE]))
        .map_err(|e| Refusal("500 Internal Server Error", format!("{listing} {DESCRIBE}: {e}")))?;
    serde_json::from_slice(&output.stdout).map_err(|e| {
        Refusal("500 Internal Server Error", format!("{listing} {DESCRIBE} printed no flags: {e}"))
    })
}

/// Refuses flags the listing does not describe, then lets its own parser
/// check them without running anything.
fn check_flags(listing: &Listing, program: &Program, args: &[String]) -> Answer<()> {
    let described = describe(listing, program)?;
    let names: Vec<&str> = described
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|flag| flag["name"].as_str())
        .collect();
    for arg in args {
        let name = arg.strip_prefix("--").map(|rest| rest.split('=').next().unwrap_or(""));
        match name {
            Some(name) if names.contains(&name) => {}
            _ => {
                return refuse(
                    "400 Bad Request",
                    format!("`{arg}` is not one of {listing}'s flags, as --name=value"),
                );
            }
        }
    }
    let checked = bounded(program.command(&[&[CHECK.to_string()], args].concat()))
        .map_err(|e| Refusal("500 Internal Server Error", format!("{listing} {CHECK}: {e}")))?;
    match checked.status.code() {
        Some(0) => Ok(()),
        Some(2) => {
            let stderr = String::from_utf8_lossy(&checked.stderr);
            refuse("400 Bad Request", stderr.lines().next().unwrap_or("a bad flag").to_string())
        }
        _ => refuse(
            "500 Internal Server Error",
            format!("{listing} {CHECK} failed ({})", checked.status),
        ),
    }
}

/// Runs a command that answers at once (describing or checking flags), for
/// at most 10 s.
fn bounded(mut command: Command) -> std::io::Result<std::process::Output> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let child = command.spawn()?;
    let group = child.id() as libc::pid_t;
    let (done, waited) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match waited.recv_timeout(Duration::from_secs(10)) {
        Ok(output) => output,
        Err(_) => {
            kill_group(group);
            Err(std::io::Error::other("did not answer within 10 s"))
        }
    }
}

/// Starts the listing in a process group of its own, in `scratch`, its
/// output piped and unbuffered, its reports written to `metrics`.
fn start(program: &Program, args: &[String], scratch: &Path, metrics: &Path) -> Answer<Child> {
    program
        .command(args)
        .current_dir(scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("PYTHONUNBUFFERED", "1")
        .env(crate::run::support_metrics_env(), metrics)
        .process_group(0)
        .spawn()
        .map_err(|e| Refusal("500 Internal Server Error", format!("cannot start it: {e}")))
}

fn compared(reported: &Reported, book: Option<&Output>) -> Vec<Value> {
    reported
        .metrics
        .iter()
        .map(|(name, value, unit)| {
            let in_book =
                book.and_then(|b| b.quoted(name)).map(|q| format_figure(q.value, &q.metric.unit));
            json!({"name": name, "run": format_figure(*value, unit), "book": in_book})
        })
        .collect()
}

fn send(stream: &mut TcpStream, value: &Value) -> std::io::Result<()> {
    stream.write_all(format!("{value}\n").as_bytes())?;
    stream.flush()
}

fn json_response(stream: &mut TcpStream, status: &str, value: &Value) -> std::io::Result<()> {
    super::respond(stream, status, "application/json", format!("{value}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixture::write;

    /// A listing that speaks the protocol by hand (the fixture has no
    /// support crate): it describes and checks its flags, prints a line per
    /// count, starts a `sleep` of its own, and reports a series and a verdict.
    const COUNTING: &str = r##"use std::io::Write;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--describe-flags") {
        println!("{}", r#"[{"name":"count","type":"u64","list":false,"default":"3","min":1,"max":100,"choices":[],"help":"How many lines."},{"name":"pause-ms","type":"u64","list":false,"default":"0","min":0,"max":5000,"choices":[],"help":"The pause after each."}]"#);
        return;
    }
    let checking = args.first().map(String::as_str) == Some("--check-flags");
    let (mut count, mut pause) = (3u64, 0u64);
    for arg in &args[checking as usize..] {
        let (slot, value, max) = match arg.split_once('=') {
            Some(("--count", value)) => (&mut count, value, 100),
            Some(("--pause-ms", value)) => (&mut pause, value, 5000),
            _ => (&mut count, "", 0),
        };
        match value.parse::<u64>() {
            Ok(n) if n <= max && (n > 0 || max == 5000) => *slot = n,
            _ => {
                eprintln!("error: invalid value for {arg}");
                std::process::exit(2);
            }
        }
    }
    if checking {
        return;
    }
    let sleeper = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    println!("sleeper {}", sleeper.id());
    let mut points = Vec::new();
    for n in 1..=count {
        println!("line {n}");
        points.push(format!("[{n},{}]", n * 2));
        std::thread::sleep(std::time::Duration::from_millis(pause));
    }
    let path = std::env::var_os("WORKBOOK_METRICS").unwrap();
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, r#"{{"kind":"metric","name":"wait","value":{count},"unit":"ms"}}"#).unwrap();
    writeln!(file, r#"{{"kind":"series","name":"wait_by_run","x_unit":"run","y_unit":"ms","points":[{}]}}"#, points.join(",")).unwrap();
    writeln!(file, r#"{{"kind":"verdict","state":"held","claim":"it counts","evidence":"{count} lines"}}"#).unwrap();
}
"##;

    struct Answered {
        status: String,
        body: String,
    }

    fn call(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answered {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        Answered { status: head.lines().next().unwrap_or("").to_string(), body: body.to_string() }
    }

    /// Whether `pid` is still there after a moment (a killed process is a
    /// zombie until init reaps it).
    fn alive(pid: i32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(3);
        // SAFETY: signal 0 only asks whether the process exists.
        while unsafe { libc::kill(pid, 0) == 0 } {
            if Instant::now() > deadline {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn a_run_from_the_page_streams_is_cancelled_and_every_refusal_is_a_4xx() {
        let (dir, project) = crate::fixture::workbook();
        let root = dir.path();
        write(
            root,
            "book.toml",
            "[book]\ntitle = \"Fixture\"\nsrc = \"src\"\n\n[build]\nbuild-dir = \"book\"\n",
        );
        write(root, "src/SUMMARY.md", "# Summary\n\n- [One](ch99.md)\n");
        write(
            root,
            "src/ch99.md",
            "# One\n\n{{#output ch99/waiting}}\n\n{{#figure ch99/waiting wait_by_run,ch99/counting:wait_by_run | Waits}}\n",
        );
        write(root, "listings/ch99/src/bin/counting.rs", COUNTING);
        let measure = std::fs::read_to_string(root.join("listings/ch99/measure.toml")).unwrap();
        let entry = "\n[[listing]]\nname = \"counting\"\nargs = [\"--count\", \"4\"]\nquick = [\"--count=2\"]\n";
        write(root, "listings/ch99/measure.toml", &format!("{measure}{entry}"));
        // Real manifests, for cargo to build it; then outputs fresh again.
        let package = |name: &str| {
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n")
        };
        write(root, "listings/ch99/Cargo.toml", &package("ch99"));
        write(root, "listings/support/Cargo.toml", &package("support"));
        // A tour of its own, not the generated one: this support crate is bare.
        write(root, "listings/ch99/src/main.rs", "fn main() {}\n");
        std::fs::remove_file(root.join("listings/Cargo.lock")).unwrap();
        let locked = crate::run::cargo()
            .current_dir(project.workspace())
            .args(["generate-lockfile", "--offline", "--quiet"])
            .status();
        assert!(locked.unwrap().success());
        let mut output = Output::load(&root.join("listings/ch99/outputs/waiting.json")).unwrap();
        for id in ["ch99/waiting", "ch99/counting"] {
            let listing = crate::fixture::listing(&project, id);
            output.listing = listing.id();
            output.fingerprint = crate::fingerprint::fingerprint(&project, &listing).unwrap();
            output.save(&project.output_path(&listing)).unwrap();
        }

        let port = super::super::start(&project, 0, false).unwrap();
        let origin = format!("http://127.0.0.1:{port}");
        let page = call(port, "GET", "/ch99.html", &[], "").body;
        assert!(
            page.contains("<div class=\"workbook-run\" data-listing=\"ch99/waiting\" hidden"),
            "{page}"
        );
        let token =
            page.split("token: \"").nth(1).and_then(|t| t.split('"').next()).unwrap().to_string();
        assert_eq!(token.len(), 32);
        let script = call(port, "GET", SCRIPT, &[], "");
        assert!(script.status.ends_with("200 OK") && script.body.contains("WORKBOOK_RUN"));
        let ok = [("Origin", origin.as_str()), ("X-Workbook-Token", token.as_str())];
        let run = |args: &str| {
            format!(
                "{{\"listing\":\"ch99/counting\",\"args\":[{args}],\"figures\":[\"ch99/waiting wait_by_run,ch99/counting:wait_by_run | Waits\"]}}"
            )
        };

        // What the form is made from.
        let flags = call(port, "GET", "/__workbook/flags?listing=ch99%2Fcounting", &ok[1..], "");
        assert!(flags.status.ends_with("200 OK"), "{}", flags.body);
        let flags: Value = serde_json::from_str(&flags.body).unwrap();
        assert_eq!(flags["flags"][0]["name"], "count");
        assert_eq!(flags["book"], json!(["--count", "4"]));

        // A run: its lines as they come, then its verdict, figures and the redrawn figure.
        let done = call(port, "POST", "/__workbook/run", &ok, &run("\"--count=3\""));
        assert!(done.status.ends_with("200 OK"), "{}", done.body);
        let messages: Vec<Value> =
            done.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(messages[0]["kind"], "started");
        assert_eq!(
            messages[0]["command"],
            "cargo run --release -p ch99 --bin counting -- --count=3"
        );
        let printed: Vec<&str> = messages
            .iter()
            .filter(|m| m["kind"] == "stdout")
            .filter_map(|m| m["line"].as_str())
            .collect();
        assert_eq!(printed[1..], ["line 1", "line 2", "line 3"]);
        let last = messages.last().unwrap();
        assert_eq!(
            (last["kind"].as_str(), last["state"].as_str()),
            (Some("done"), Some("held")),
            "{last}"
        );
        assert_eq!(last["verdict"]["evidence"], "3 lines");
        assert_eq!(last["metrics"][0], json!({"name": "wait", "run": "3 ms", "book": "5.12 ms"}));
        let html = last["figures"][0]["html"].as_str().unwrap();
        assert!(
            html.contains("wait_by_run (this run)") && html.contains("With this run from the page"),
            "{html}"
        );
        let sleeper: i32 = printed[0].strip_prefix("sleeper ").unwrap().parse().unwrap();
        assert!(!alive(sleeper), "the run's own child outlived it");

        // Refusals, each a 4xx that runs nothing.
        let refused = |headers: &[(&str, &str)], body: &str, status: &str, why: &str| {
            let answer = call(port, "POST", "/__workbook/run", headers, body);
            assert!(answer.status.ends_with(status), "{} {}", answer.status, answer.body);
            assert!(answer.body.contains(why), "{}", answer.body);
        };
        let foreign = [("Origin", "http://evil.example"), ("X-Workbook-Token", token.as_str())];
        refused(&foreign, &run(""), "403 Forbidden", "may not run listings here");
        refused(&ok[1..], &run(""), "403 Forbidden", "must say its Origin");
        let wrong = [("Origin", origin.as_str()), ("X-Workbook-Token", "0123")];
        refused(&wrong, &run(""), "403 Forbidden", "wrong or missing token");
        refused(
            &ok,
            &run("").replace("counting", "nothing"),
            "404 Not Found",
            "no listing `ch99/nothing`",
        );
        refused(&ok, &run("\"--count=0\""), "400 Bad Request", "invalid value for --count=0");
        refused(
            &ok,
            &run("\"--worker\""),
            "400 Bad Request",
            "is not one of ch99/counting's flags",
        );
        refused(&ok, "rm -rf /", "400 Bad Request", "not a run");

        // A long run: a second one is refused, and a cancel ends it and its child.
        let long = std::thread::spawn({
            let (origin, token, body) =
                (origin.clone(), token.clone(), run("\"--count=100\",\"--pause-ms=1000\""));
            move || {
                call(
                    port,
                    "POST",
                    "/__workbook/run",
                    &[("Origin", &origin), ("X-Workbook-Token", &token)],
                    &body,
                )
            }
        });
        std::thread::sleep(Duration::from_millis(1500));
        refused(&ok, &run(""), "409 Conflict", "ch99/counting is running");
        let cancelled = call(port, "POST", "/__workbook/cancel", &ok, "{}");
        assert!(cancelled.body.contains("ch99/counting"), "{}", cancelled.body);
        let long = long.join().unwrap();
        let last: Value = serde_json::from_str(long.body.lines().last().unwrap()).unwrap();
        assert_eq!(
            (last["state"].as_str(), last["problem"].as_str()),
            (Some("stopped"), Some("cancelled")),
            "{last}"
        );
        let first_line: Value = serde_json::from_str(long.body.lines().nth(1).unwrap()).unwrap();
        let sleeper: i32 =
            first_line["line"].as_str().unwrap().strip_prefix("sleeper ").unwrap().parse().unwrap();
        assert!(!alive(sleeper), "a cancelled run's child outlived it");
        // The slot is free again.
        let again = call(port, "POST", "/__workbook/run", &ok, &run("\"--count=1\""));
        assert!(again.body.contains("\"state\":\"held\""), "{}", again.body);
    }
}
