//! The same fetch-and-save with callbacks on a readiness loop: the same bytes, the same wait, and the loop thread waits only in poll.
//!
//!     cargo run --release -p ch01 --bin fetch_and_save_callbacks -- --latency-ms 100

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::{fs, thread};

use mio::{Events, Interest, Poll, Token, Waker, event::Event, net::TcpStream};
use support::latency::{Config, LatencyServer, ticker_body};
use support::report::{metric, verdict};
use support::timing::thread_context_switches;

/// Fetch one ticker page and write it to a file, with callbacks.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
}

pub fn run(args: Args) -> ExitCode {
    // The same 16 KiB page as the blocking version, in 4 KiB pieces 1 ms apart.
    let config = Config::latency(args.latency_ms)
        .with_payload(16 * 1024)
        .with_chunks(4096, Duration::from_millis(1));
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let dir = tempfile::tempdir().expect("create a scratch directory");
    let path = dir.path().join("ACME-1.json");
    let (start, mut event_loop) = (Instant::now(), EventLoop::new());

    // ANCHOR: callbacks
    // Say what to do when data comes and when it ends, then let the loop run.
    // Both callbacks use the body; Rust wants that sharing spelled out (Rc<RefCell>).
    let body = Rc::new(RefCell::new(Vec::new()));
    let on_data = {
        let body = Rc::clone(&body);
        move |piece: &[u8]| body.borrow_mut().extend_from_slice(piece)
    };
    let file = path.clone();
    let on_end = move |event_loop: &mut EventLoop| {
        // epoll cannot wait on a regular file (a file always counts as ready), so
        // the write runs on another thread and its completion comes back as an event.
        let body = body.take();
        event_loop.spawn_blocking(move || fs::write(file, body), |written| written.expect("save"));
    };
    http_get(&mut event_loop, server.addr(), on_data, on_end);
    event_loop.run();
    // ANCHOR_END: callbacks

    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let same = fs::read(&path).expect("read the saved page")
        == ticker_body("ACME", 1, config.payload_bytes);
    let Waits { polls, in_poll, total } = event_loop.waits;
    let elsewhere = total - in_poll;
    println!(
        "saved {} bytes in {wall_ms:.0} ms; identical to what the server sent: {same}",
        config.payload_bytes
    );
    println!(
        "the loop thread polled {polls} times; it blocked {in_poll} times in poll, {elsewhere} elsewhere"
    );
    metric("wall_ms", wall_ms, "ms");
    metric("polls", polls as f64, "polls");
    metric("blocks_in_poll", in_poll as f64, "times");
    metric("blocks_elsewhere", elsewhere as f64, "times");

    let latency = args.latency_ms as f64;
    let holds =
        same && wall_ms >= 0.9 * latency && wall_ms < 3.0 * latency + 100.0 && elsewhere == 0;
    verdict(
        "callbacks save the same bytes in about one latency; the loop thread blocks only in poll",
        holds,
        &format!(
            "{wall_ms:.0} ms at a {latency:.0} ms latency; {in_poll} blocks in poll, {elsewhere} elsewhere"
        ),
    )
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
    event_loop.watch(stream, move |event_loop, stream, event| {
        if event.is_writable() && !sent && stream.peer_addr().is_ok() {
            let request =
                "GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n";
            stream.write_all(request.as_bytes()).expect("send"); // on_connected
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
}
// ANCHOR_END: http_get

type Callback = Box<dyn FnMut(&mut EventLoop, &mut TcpStream, &Event) -> bool>;
type Completion = Box<dyn FnOnce() + Send>;
type Job = Box<dyn FnOnce() -> Completion + Send>;

/// A minimal readiness loop: a callback per socket, and a worker thread that
/// does blocking work and hands its completions back through a waker.
struct EventLoop {
    poll: Poll,
    sockets: HashMap<Token, (TcpStream, Callback)>,
    worker: mpsc::Sender<Job>,
    completions: mpsc::Receiver<Completion>,
    jobs: usize,
    waits: Waits,
}

/// How often the loop polled, and how often its thread blocked in poll and in all.
#[derive(Default)]
struct Waits {
    polls: u64,
    in_poll: u64,
    total: u64,
}

const WAKER: Token = Token(usize::MAX);

impl EventLoop {
    fn new() -> EventLoop {
        let poll = Poll::new().expect("create the poller");
        let waker = Waker::new(poll.registry(), WAKER).expect("create the waker");
        // The worker is started here, before the loop runs, as tokio's blocking
        // pool keeps its threads: starting a thread is itself a system call
        // that can block, and the loop thread should block only in poll.
        let (worker, jobs) = mpsc::channel::<Job>();
        let (done, completions) = mpsc::channel();
        thread::spawn(move || {
            for job in jobs {
                let _ = done.send(job());
                waker.wake().expect("wake the loop");
            }
        });
        let (sockets, jobs, waits) = (HashMap::new(), 0, Waits::default());
        EventLoop { poll, sockets, worker, completions, jobs, waits }
    }

    /// Calls `callback` each time `stream` is ready, until it returns false.
    fn watch(
        &mut self,
        mut stream: TcpStream,
        callback: impl FnMut(&mut EventLoop, &mut TcpStream, &Event) -> bool + 'static,
    ) {
        // An open socket's file descriptor is unique: a ready-made token.
        let token = Token(stream.as_raw_fd() as usize);
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll.registry().register(&mut stream, token, interest).expect("register");
        self.sockets.insert(token, (stream, Box::new(callback)));
    }

    /// Runs `work` on the worker thread, then `then` with its result on the loop.
    fn spawn_blocking<T: Send + 'static>(
        &mut self,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(T) + Send + 'static,
    ) {
        self.jobs += 1;
        let job: Job = Box::new(move || {
            let result = work();
            Box::new(move || then(result))
        });
        self.worker.send(job).expect("the worker runs while the loop does");
    }

    /// Polls and dispatches until no socket is watched and no job is running.
    fn run(&mut self) {
        let (mut events, start) = (Events::with_capacity(64), thread_context_switches());
        while !self.sockets.is_empty() || self.jobs > 0 {
            // Count the times this thread blocks inside poll, and (below) in all.
            let before = thread_context_switches();
            self.poll.poll(&mut events, None).expect("poll");
            self.waits.in_poll += thread_context_switches().since(before).voluntary;
            self.waits.polls += 1;
            for event in events.iter() {
                if event.token() == WAKER {
                    for completion in self.completions.try_iter() {
                        completion();
                        self.jobs -= 1;
                    }
                } else if let Some((mut stream, mut callback)) = self.sockets.remove(&event.token())
                {
                    match callback(self, &mut stream, event) {
                        true => drop(self.sockets.insert(event.token(), (stream, callback))),
                        false => self.poll.registry().deregister(&mut stream).expect("deregister"),
                    }
                }
            }
        }
        self.waits.total = thread_context_switches().since(start).voluntary;
    }
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
