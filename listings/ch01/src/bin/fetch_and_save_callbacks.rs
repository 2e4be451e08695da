//! Fetch-and-save with callbacks saves the same bytes in one latency; the loop waits only in poll.
//!
//!     cargo run --release -p ch01 --bin fetch_and_save_callbacks -- --latency-ms 100

use std::io::{ErrorKind, Read, Write};
use std::{cell::RefCell, collections::HashMap, fs, net::SocketAddr, os::fd::AsRawFd, rc::Rc};
use std::{process::ExitCode, sync::mpsc, time::Instant};

use mio::{Events, Interest, Poll, Token, Waker, net::TcpStream};
use support::latency::{Config, LatencyServer, ticker_body};
use support::report::{figure, verdict};
use support::timing::{ms, thread_context_switches};

/// Fetch one ticker page and write it to a file, with callbacks.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
}

// ANCHOR: http_get
/// Starts a GET; calls `on_data` with each piece of the body, `on_end` at its end.
fn http_get(
    event_loop: &mut EventLoop,
    server: SocketAddr,
    mut on_data: impl FnMut(&[u8]) + 'static,
    on_end: impl FnOnce(&mut EventLoop) + 'static,
) {
    let stream = TcpStream::connect(server).expect("start connecting");
    let (mut sent, mut head, mut on_end) = (false, Vec::new(), Some(on_end));
    let mut buffer = vec![0; 64 * 1024];
    let on_ready: Callback = Box::new(move |event_loop, stream| {
        // A peer address means the connection is up (on_connected): send the request.
        if !sent && stream.peer_addr().is_ok() {
            let request =
                "GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n";
            stream.write_all(request.as_bytes()).expect("send");
            sent = true;
        }
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => {
                    on_end.take().expect("one end")(event_loop);
                    return false; // Stop watching: the loop closes the socket.
                }
                Ok(n) if !head.ends_with(b"\r\n\r\n") => {
                    head.extend_from_slice(&buffer[..n]);
                    if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        on_data(&head.split_off(end + 4));
                    }
                }
                Ok(n) => on_data(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true, // Wait for more.
                Err(e) => panic!("read failed: {e}"),
            }
        }
    });
    event_loop.watch(stream, on_ready);
}
// ANCHOR_END: http_get

// ANCHOR: event_loop
type Callback = Box<dyn FnMut(&mut EventLoop, &mut TcpStream) -> bool>;
type Job = Box<dyn FnOnce() -> Completion + Send>;
type Completion = Box<dyn FnOnce() + Send>;
const WAKER: Token = Token(usize::MAX);

/// A minimal readiness loop: a callback per socket, and a worker thread that
/// does blocking work and hands its completions back through a waker.
struct EventLoop {
    poll: Poll,
    sockets: HashMap<Token, (TcpStream, Callback)>,
    worker: mpsc::Sender<Job>,
    completions: mpsc::Receiver<Completion>,
    jobs: usize,
    waits: Vec<u64>, // measuring: how often the loop thread blocked in each poll
}

impl EventLoop {
    fn new() -> EventLoop {
        let poll = Poll::new().expect("create the poller");
        let waker = Waker::new(poll.registry(), WAKER).expect("create the waker");
        // The worker starts before the loop runs, as tokio's blocking pool keeps its threads:
        // starting a thread is itself a system call that can block.
        let ((worker, jobs), (done, completions)) = (mpsc::channel::<Job>(), mpsc::channel());
        std::thread::spawn(move || {
            for job in jobs {
                let _ = done.send(job());
                waker.wake().expect("wake the loop");
            }
        });
        EventLoop { poll, sockets: HashMap::new(), worker, completions, jobs: 0, waits: Vec::new() }
    }

    /// Calls `callback` each time `stream` is ready, until it returns false.
    fn watch(&mut self, mut stream: TcpStream, callback: Callback) {
        // An open socket's file descriptor is unique: a ready-made token.
        let token = Token(stream.as_raw_fd() as usize);
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll.registry().register(&mut stream, token, interest).expect("register");
        self.sockets.insert(token, (stream, callback));
    }

    /// Runs `job` on the worker thread, then the completion it returns on the loop.
    fn spawn_blocking(&mut self, job: impl FnOnce() -> Completion + Send + 'static) {
        self.jobs += 1;
        self.worker.send(Box::new(job)).expect("the worker runs while the loop does");
    }

    /// Polls and dispatches until no socket is watched and no job is running.
    fn run(&mut self) {
        let mut events = Events::with_capacity(64);
        while !self.sockets.is_empty() || self.jobs > 0 {
            let before = thread_context_switches(); // measuring
            self.poll.poll(&mut events, None).expect("poll");
            self.waits.push(thread_context_switches().since(before).voluntary); // measuring
            for event in events.iter() {
                if event.token() == WAKER {
                    self.jobs -= self.completions.try_iter().map(|completion| completion()).count();
                } else if let Some((mut stream, mut call)) = self.sockets.remove(&event.token()) {
                    match call(self, &mut stream) {
                        true => drop(self.sockets.insert(event.token(), (stream, call))),
                        false => self.poll.registry().deregister(&mut stream).expect("deregister"),
                    }
                }
            }
        }
    }
}
// ANCHOR_END: event_loop

pub fn run(args: Args) -> ExitCode {
    // The same 16 KiB page as the blocking version, in 4 KiB pieces 1 ms apart.
    let pieces = std::time::Duration::from_millis(1);
    let config = Config::latency(args.latency_ms).with_payload(16 * 1024).with_chunks(4096, pieces);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let dir = tempfile::tempdir().expect("create a scratch directory");
    let (path, mut event_loop) = (dir.path().join("ACME-1.json"), EventLoop::new());
    let (file, start, before) = (path.clone(), Instant::now(), thread_context_switches());

    // ANCHOR: callbacks
    // Say what to do when data comes and when it ends, then let the loop run.
    // Both callbacks use the body; Rust wants that sharing spelled out (Rc<RefCell>).
    let body = Rc::new(RefCell::new(Vec::new()));
    let body_for_data = Rc::clone(&body);
    let on_data = move |piece: &[u8]| body_for_data.borrow_mut().extend_from_slice(piece);
    let on_end = move |event_loop: &mut EventLoop| {
        // epoll cannot wait on a regular file (a file always counts as ready), so the
        // write runs on the worker, and what to do once it is written comes back.
        let body = body.take();
        event_loop.spawn_blocking(move || {
            let written = fs::write(file, body);
            Box::new(move || written.expect("save"))
        });
    };
    http_get(&mut event_loop, server.addr(), on_data, on_end);
    event_loop.run();
    // ANCHOR_END: callbacks

    let (wall, blocks) = (start.elapsed(), thread_context_switches().since(before).voluntary);
    let saved = fs::read(&path).expect("read the saved page");
    let same = saved == ticker_body("ACME", 1, config.payload_bytes);
    println!("saved {} bytes; identical to what the server sent: {same}", saved.len());
    let wall = figure("wall_ms", ms(wall), "ms");
    let polls = figure("polls", event_loop.waits.len() as f64, "polls");
    let in_poll = figure("blocks_in_poll", event_loop.waits.iter().sum::<u64>() as f64, "times");
    let elsewhere = figure("blocks_elsewhere", blocks as f64 - in_poll.value, "times");
    let latency = args.latency_ms as f64;
    let one_latency = wall.value >= 0.9 * latency && wall.value < 3.0 * latency + 100.0;
    verdict(
        "callbacks save the same bytes in about one latency; the loop thread blocks only in poll",
        same && one_latency && elsewhere.value == 0.0,
        &format!("{wall:.0} at {latency} ms, {polls}; {in_poll} in poll, {elsewhere} elsewhere"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
