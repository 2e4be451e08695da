//! Fetch-and-save with callbacks saves the same bytes in one latency; the loop waits only in poll.
//!
//!     cargo run --release -p ch01 --bin fetch_and_save_callbacks -- --latency-ms 100

use std::{cell::RefCell, collections::HashMap, fs, os::fd::AsRawFd, rc::Rc};

use ch01::{fetch::Fetch, worker::Worker};
use mio::{Events, Interest, Poll, Token};
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
    server: std::net::SocketAddr,
    mut on_data: impl FnMut(&[u8]) + 'static,
    on_end: impl FnOnce(&mut EventLoop) + 'static,
) {
    let (mut head, mut on_end, mut buffer) = (Vec::new(), Some(on_end), vec![0; 64 * 1024]);
    let on_ready: Callback = Box::new(move |event_loop, fetch| {
        let ended = fetch.on_ready(&mut buffer, |piece| {
            if head.ends_with(b"\r\n\r\n") {
                on_data(piece);
            } else {
                head.extend_from_slice(piece);
                if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    on_data(&head.split_off(end + 4));
                }
            }
        });
        if ended {
            on_end.take().expect("one end")(event_loop);
        }
        !ended // Stop watching at the end: the loop closes the socket.
    });
    event_loop.watch(Fetch::start(server, 1), on_ready);
}
// ANCHOR_END: http_get

// ANCHOR: event_loop
type Callback = Box<dyn FnMut(&mut EventLoop, &mut Fetch) -> bool>;
const WAKER: Token = Token(usize::MAX);

/// A minimal readiness loop: a callback per socket, and a worker thread for
/// blocking work, whose completions come back through a waker.
struct EventLoop {
    poll: Poll,
    sockets: HashMap<Token, (Fetch, Callback)>,
    worker: Worker,
    waits: Vec<u64>, // measuring: how often the loop thread blocked in each poll
}

impl EventLoop {
    fn new() -> EventLoop {
        let poll = Poll::new().expect("create the poller");
        let worker = Worker::start(&poll, WAKER);
        EventLoop { poll, sockets: HashMap::new(), worker, waits: Vec::new() }
    }

    /// Calls `callback` each time the socket of `fetch` is ready, until it returns false.
    fn watch(&mut self, mut fetch: Fetch, callback: Callback) {
        // An open socket's file descriptor is unique: a ready-made token.
        let token = Token(fetch.stream.as_raw_fd() as usize);
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll.registry().register(&mut fetch.stream, token, interest).expect("register");
        self.sockets.insert(token, (fetch, callback));
    }

    /// Polls and dispatches until no socket is watched and no job is running.
    fn run(&mut self) {
        let mut events = Events::with_capacity(64);
        while !self.sockets.is_empty() || self.worker.running() > 0 {
            let before = thread_context_switches(); // measuring
            self.poll.poll(&mut events, None).expect("poll");
            self.waits.push(thread_context_switches().since(before).voluntary); // measuring
            for event in events.iter() {
                if event.token() == WAKER {
                    self.worker.complete();
                } else if let Some((mut fetch, mut call)) = self.sockets.remove(&event.token()) {
                    if call(self, &mut fetch) {
                        self.sockets.insert(event.token(), (fetch, call));
                    } else {
                        self.poll.registry().deregister(&mut fetch.stream).expect("deregister");
                    }
                }
            }
        }
    }
}
// ANCHOR_END: event_loop

pub fn run(args: Args) -> std::process::ExitCode {
    // The same 16 KiB page as the blocking version, in 4 KiB pieces 1 ms apart.
    let pieces = std::time::Duration::from_millis(1);
    let config = Config::latency(args.latency_ms).with_payload(16 * 1024).with_chunks(4096, pieces);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let dir = tempfile::tempdir().expect("create a scratch directory");
    let (path, mut event_loop) = (dir.path().join("ACME-1.json"), EventLoop::new());
    let (file, start, before) =
        (path.clone(), std::time::Instant::now(), thread_context_switches());

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
        event_loop.worker.spawn_blocking(move || {
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

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
