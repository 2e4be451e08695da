//! Fetch-and-save with callbacks saves the same bytes in one latency; the loop waits only in poll.
//!
//!     cargo run --release -p ch01 --bin fetch_and_save_callbacks -- --latency-ms 100

use std::io::{ErrorKind, Read, Write};
use std::{cell::RefCell, collections::HashMap, fs, net::SocketAddr, os::fd::AsRawFd, rc::Rc};
use std::{path::PathBuf, process::ExitCode, sync::mpsc, thread, time::Duration};

use mio::{Events, Interest, Poll, Token, Waker, event::Event, net::TcpStream};
use support::latency::{Config, LatencyServer, ticker_body};
use support::report::{figure, verdict};
use support::timing::{ms, thread_context_switches, time};

/// Fetch one ticker page and write it to a file, with callbacks.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
}

fn fetch_and_save(event_loop: &mut EventLoop, server: SocketAddr, file: PathBuf) {
    // ANCHOR: callbacks
    // Say what to do when data comes and when it ends, then let the loop run.
    // Both callbacks use the body; Rust wants that sharing spelled out (Rc<RefCell>).
    let body = Rc::new(RefCell::new(Vec::new()));
    let on_data = {
        let body = Rc::clone(&body);
        move |piece: &[u8]| body.borrow_mut().extend_from_slice(piece)
    };
    let on_end = move |event_loop: &mut EventLoop| {
        // epoll cannot wait on a regular file (a file always counts as ready), so
        // the write runs on another thread and its completion comes back as an event.
        let body = body.take();
        event_loop.spawn_blocking(move || fs::write(file, body), |written| written.expect("save"));
    };
    http_get(event_loop, server, on_data, on_end);
    event_loop.run();
    // ANCHOR_END: callbacks
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
    let on_ready: Callback = Box::new(move |event_loop, stream, event| {
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
    event_loop.watch(stream, on_ready);
}
// ANCHOR_END: http_get

// ANCHOR: event_loop
type Callback = Box<dyn FnMut(&mut EventLoop, &mut TcpStream, &Event) -> bool>;
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
    waits: (u64, u64), // measuring: how often the loop polled, how often it blocked in poll
}

impl EventLoop {
    fn new() -> EventLoop {
        let poll = Poll::new().expect("create the poller");
        let waker = Waker::new(poll.registry(), WAKER).expect("create the waker");
        // The worker is started here, before the loop runs, as tokio's blocking
        // pool keeps its threads: starting a thread is itself a system call
        // that can block, and the loop thread should block only in poll.
        let ((worker, jobs), (done, completions)) = (mpsc::channel::<Job>(), mpsc::channel());
        thread::spawn(move || {
            for job in jobs {
                let _ = done.send(job());
                waker.wake().expect("wake the loop");
            }
        });
        EventLoop { poll, sockets: HashMap::new(), worker, completions, jobs: 0, waits: (0, 0) }
    }

    /// Calls `callback` each time `stream` is ready, until it returns false.
    fn watch(&mut self, mut stream: TcpStream, callback: Callback) {
        // An open socket's file descriptor is unique: a ready-made token.
        let token = Token(stream.as_raw_fd() as usize);
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll.registry().register(&mut stream, token, interest).expect("register");
        self.sockets.insert(token, (stream, callback));
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
        let mut events = Events::with_capacity(64);
        while !self.sockets.is_empty() || self.jobs > 0 {
            let before = thread_context_switches(); // measuring
            self.poll.poll(&mut events, None).expect("poll");
            let blocked = thread_context_switches().since(before).voluntary; // measuring
            self.waits = (self.waits.0 + 1, self.waits.1 + blocked); // measuring
            for event in events.iter() {
                if event.token() == WAKER {
                    self.jobs -= self.completions.try_iter().map(|completion| completion()).count();
                } else if let Some((mut stream, mut call)) = self.sockets.remove(&event.token()) {
                    match call(self, &mut stream, event) {
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
    let pieces = Duration::from_millis(1);
    let config = Config::latency(args.latency_ms).with_payload(16 * 1024).with_chunks(4096, pieces);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let dir = tempfile::tempdir().expect("create a scratch directory");
    let (path, mut event_loop) = (dir.path().join("ACME-1.json"), EventLoop::new());
    let before = thread_context_switches();
    let ((), wall) = time(|| fetch_and_save(&mut event_loop, server.addr(), path.clone()));
    let ((polls, in_poll), total) = (event_loop.waits, thread_context_switches().since(before));
    let saved = fs::read(&path).expect("read the saved page");
    let same = saved == ticker_body("ACME", 1, config.payload_bytes);
    println!("saved {} bytes; identical to what the server sent: {same}", saved.len());
    let (wall, polls) = (figure("wall_ms", ms(wall), "ms"), figure("polls", polls as f64, "polls"));
    println!("from the start to the file saved: {wall:.0}");
    let elsewhere = figure("blocks_elsewhere", (total.voluntary - in_poll) as f64, "times");
    let in_poll = figure("blocks_in_poll", in_poll as f64, "times");
    let blocks = format!("{in_poll} in poll, {elsewhere} elsewhere");
    println!("the loop thread made {polls}; it blocked {blocks}");
    let latency = args.latency_ms as f64;
    let one_latency = wall.value >= 0.9 * latency && wall.value < 3.0 * latency + 100.0;
    verdict(
        "callbacks save the same bytes in about one latency; the loop thread blocks only in poll",
        same && one_latency && elsewhere.value == 0.0,
        &format!("{wall:.0} at a {latency:.0} ms latency; {blocks}"),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
