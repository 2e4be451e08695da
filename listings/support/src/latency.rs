//! A loopback server that simulates a slow remote API: a paged "ticker" API
//! that answers every request after a fixed latency.
//!
//! It speaks just enough HTTP/1.1 for raw TCP clients, `curl`, reqwest and
//! hyper. `GET /ticker/<SYMBOL>?page=<N>` waits [`Config::latency`], then
//! answers `200 OK` with a JSON body of exactly [`Config::payload_bytes`]
//! bytes (see [`ticker_body`]). A query parameter `latency_ms=<n>` overrides
//! the latency for that one request. Connections are kept alive unless the
//! client sends `Connection: close`; a wrong path gets `404`, anything else
//! the server cannot serve gets `400` and the connection is closed.
//!
//! The server binds 127.0.0.1 only. It runs on a tokio current-thread
//! runtime owned by a background thread, one task per connection, so ten
//! thousand concurrent connections cost little. It ends by itself: dropping
//! the [`LatencyServer`] closes every connection and joins its thread, and a
//! connection idle for [`IDLE_TIMEOUT`] is closed.
//!
//! ```
//! use std::io::{Read, Write};
//! use support::latency::{Config, LatencyServer};
//!
//! let server = LatencyServer::start(Config::latency(20).with_payload(256))?;
//! let mut stream = std::net::TcpStream::connect(server.addr())?;
//! stream.write_all(b"GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n")?;
//! let mut response = String::new();
//! stream.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.ends_with(&String::from_utf8(support::latency::ticker_body("ACME", 1, 256)).unwrap()));
//! assert_eq!(server.requests_served(), 1);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::time::timeout;

/// A connection that sends nothing for this long (or does not read what it
/// is sent) is closed, so that no client can keep a task alive forever.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest `latency_ms` a request may ask for (30 s); more gets `400`.
pub const MAX_LATENCY_MS: u64 = 30_000;

/// The longest request head (request line and headers) the server reads.
const MAX_HEAD_BYTES: u64 = 8 * 1024;

/// The longest request body the server reads and discards.
const MAX_REQUEST_BODY: u64 = 64 * 1024;

/// How the simulated API behaves.
///
/// ```
/// use std::time::Duration;
/// use support::latency::Config;
///
/// let config = Config::latency(200)
///     .with_payload(4096)
///     .with_chunks(1024, Duration::from_millis(5));
/// assert_eq!(config.latency, Duration::from_millis(200));
/// assert_eq!(config.chunk_bytes, Some(1024));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long the server waits before it answers each request.
    pub latency: Duration,
    /// The size of each response body, in bytes.
    pub payload_bytes: usize,
    /// Send the body in pieces of this many bytes with `chunk_gap` between
    /// them (simulates packets that arrive unevenly); `None` (or `Some(0)`)
    /// sends it all at once.
    pub chunk_bytes: Option<usize>,
    /// The pause between two pieces of a body sent in pieces.
    pub chunk_gap: Duration,
    /// Serve at most this many requests at once; the others wait in line
    /// (like a backend with a fixed pool of workers). `None`: no limit.
    pub capacity: Option<usize>,
}

impl Default for Config {
    /// A latency of 50 ms, 1024-byte bodies sent all at once.
    ///
    /// ```
    /// let config = support::latency::Config::default();
    /// assert_eq!(config.latency.as_millis(), 50);
    /// assert_eq!(config.payload_bytes, 1024);
    /// ```
    fn default() -> Config {
        Config {
            latency: Duration::from_millis(50),
            payload_bytes: 1024,
            chunk_bytes: None,
            chunk_gap: Duration::ZERO,
            capacity: None,
        }
    }
}

impl Config {
    /// The default configuration with a latency of `ms` milliseconds.
    ///
    /// ```
    /// let config = support::latency::Config::latency(200);
    /// assert_eq!(config.latency.as_millis(), 200);
    /// ```
    pub fn latency(ms: u64) -> Config {
        Config { latency: Duration::from_millis(ms), ..Config::default() }
    }

    /// This configuration with bodies of `bytes` bytes.
    ///
    /// ```
    /// let config = support::latency::Config::latency(10).with_payload(64 * 1024);
    /// assert_eq!(config.payload_bytes, 65536);
    /// ```
    pub fn with_payload(self, bytes: usize) -> Config {
        Config { payload_bytes: bytes, ..self }
    }

    /// This configuration sending bodies in pieces of `bytes` bytes, `gap`
    /// apart.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let config = support::latency::Config::default().with_chunks(100, Duration::from_millis(2));
    /// assert_eq!(config.chunk_gap, Duration::from_millis(2));
    /// ```
    pub fn with_chunks(self, bytes: usize, gap: Duration) -> Config {
        Config { chunk_bytes: Some(bytes), chunk_gap: gap, ..self }
    }

    /// This configuration serving at most `requests` requests at once; the
    /// rest wait in line, and [`LatencyServer::peak_waiting`] says how
    /// long the line grew.
    ///
    /// ```
    /// let config = support::latency::Config::latency(20).with_capacity(8);
    /// assert_eq!(config.capacity, Some(8));
    /// ```
    pub fn with_capacity(self, requests: usize) -> Config {
        Config { capacity: Some(requests), ..self }
    }
}

/// A running latency server. Dropping it (or calling [`stop`](Self::stop))
/// stops it.
///
/// ```
/// let server = support::latency::LatencyServer::start(Default::default())?;
/// assert!(server.addr().ip().is_loopback());
/// println!("try: curl {}", server.url("ACME", 1));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct LatencyServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the server's thread and its connection tasks share.
struct Shared {
    config: Config,
    idle_timeout: Duration,
    served: AtomicU64,
    /// Permits for `config.capacity` requests at once, if limited.
    capacity: Option<tokio::sync::Semaphore>,
    /// Requests waiting for a permit now, and the most there ever were.
    waiting: AtomicU64,
    peak_waiting: AtomicU64,
}

impl LatencyServer {
    /// Starts a server on a free port of 127.0.0.1 and returns once it
    /// accepts connections. It also calls [`raise_fd_limit`], so that many
    /// connections fit in the server and its clients.
    ///
    /// ```
    /// let server = support::latency::LatencyServer::start(support::latency::Config::latency(100))?;
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(config: Config) -> io::Result<LatencyServer> {
        LatencyServer::start_with_idle_timeout(config, IDLE_TIMEOUT)
    }

    fn start_with_idle_timeout(config: Config, idle_timeout: Duration) -> io::Result<Self> {
        raise_fd_limit();
        let capacity = config.capacity.map(tokio::sync::Semaphore::new);
        let (served, waiting, peak_waiting) =
            (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        let shared =
            Arc::new(Shared { config, idle_timeout, served, capacity, waiting, peak_waiting });
        let (shutdown, shutdown_rx) = oneshot::channel();
        let (ready, ready_rx) = std::sync::mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        // The runtime is built and dropped on the server's own thread, so
        // `start` and `drop` work from synchronous and asynchronous code alike.
        let thread =
            std::thread::Builder::new().name("latency-server".into()).spawn(move || {
                let runtime =
                    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(runtime) => runtime,
                        Err(error) => return drop(ready.send(Err(error))),
                    };
                runtime.block_on(async move {
                    let listener = match bind_loopback() {
                        Ok(listener) => listener,
                        Err(error) => return drop(ready.send(Err(error))),
                    };
                    let _ = ready.send(listener.local_addr());
                    accept_loop(listener, thread_shared, shutdown_rx).await;
                });
                // Dropping the runtime cancels every connection task, which
                // closes its socket.
            })?;
        let bound = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the latency server's thread died")));
        match bound {
            Ok(addr) => {
                Ok(LatencyServer { addr, shared, shutdown: Some(shutdown), thread: Some(thread) })
            }
            Err(error) => {
                let _ = thread.join();
                Err(error)
            }
        }
    }

    /// The address the server listens on: 127.0.0.1 and a free port.
    ///
    /// ```
    /// let server = support::latency::LatencyServer::start(Default::default())?;
    /// let stream = std::net::TcpStream::connect(server.addr())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of one page of a symbol, for HTTP clients.
    ///
    /// ```
    /// let server = support::latency::LatencyServer::start(Default::default())?;
    /// let url = server.url("ACME", 3);
    /// assert_eq!(url, format!("http://{}/ticker/ACME?page=3", server.addr()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self, symbol: &str, page: u64) -> String {
        format!("http://{}/ticker/{symbol}?page={page}", self.addr)
    }

    /// How many responses the server has completed so far, errors included.
    /// A response counts once its last byte is handed to the socket, so a
    /// client that has read a whole response always finds it counted.
    ///
    /// ```
    /// let server = support::latency::LatencyServer::start(Default::default())?;
    /// assert_eq!(server.requests_served(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn requests_served(&self) -> u64 {
        self.shared.served.load(Ordering::SeqCst)
    }

    /// The most requests that ever waited at once for the server's
    /// [`capacity`](Config::capacity): its queue's peak depth (0 without a
    /// capacity, or when no request had to wait).
    ///
    /// ```
    /// let server = support::latency::LatencyServer::start(support::latency::Config::latency(10).with_capacity(2))?;
    /// assert_eq!(server.peak_waiting(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peak_waiting(&self) -> u64 {
        self.shared.peak_waiting.load(Ordering::SeqCst)
    }

    /// Stops the server, as dropping it does: it stops accepting, closes
    /// every connection and joins its thread, within a few milliseconds.
    ///
    /// ```
    /// let server = support::latency::LatencyServer::start(Default::default())?;
    /// let addr = server.addr();
    /// server.stop();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(self) {}
}

impl Drop for LatencyServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for LatencyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyServer")
            .field("addr", &self.addr)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// Raises this process's soft limit on open files (`RLIMIT_NOFILE`) to its
/// hard limit, and returns the soft limit now in force. Every connection is
/// a file descriptor, and the usual soft limit (1024) is too low for ten
/// thousand of them; the hard limit is the ceiling an unprivileged process
/// may raise it to. [`LatencyServer::start`] calls it; clients that open
/// many connections should call it too.
///
/// ```
/// let limit = support::latency::raise_fd_limit();
/// assert!(limit >= 256);
/// ```
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid, writable `rlimit` for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: `raised` is a valid `rlimit` that setrlimit only reads. If
        // the kernel refuses (an unlimited hard limit), the old limit stays.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    #[allow(clippy::unnecessary_cast)] // `rlim_t` is u64 on 64-bit Linux only.
    let soft = limit.rlim_cur as u64;
    soft
}

/// The body of `page` of `symbol` for bodies of `payload_bytes` bytes: the
/// exact bytes the server sends, so that clients can check what they read.
///
/// It is a JSON object, `{"symbol":"ACME","page":3,"prices":[...]}`, with as
/// many made-up prices as fit, padded with spaces to exactly `payload_bytes`
/// bytes. The prices depend only on the symbol, the page and their position,
/// so the same request always gets the same bytes. Below the size of the
/// object with no prices (38 bytes for `ACME`, page 3), the body is that
/// object cut short: still exactly `payload_bytes` bytes, but not valid JSON.
///
/// ```
/// use support::latency::ticker_body;
///
/// let body = ticker_body("ACME", 3, 64);
/// assert_eq!(body.len(), 64);
/// assert!(body.starts_with(br#"{"symbol":"ACME","page":3,"prices":["#));
/// assert!(body.ends_with(b" ]}"));
/// assert_eq!(body, ticker_body("ACME", 3, 64));
/// assert_eq!(ticker_body("ACME", 3, 5), br#"{"sym"#);
/// ```
pub fn ticker_body(symbol: &str, page: u64, payload_bytes: usize) -> Vec<u8> {
    const CLOSING: &[u8] = b"]}";
    let mut body = format!(r#"{{"symbol":"{symbol}","page":{page},"prices":["#).into_bytes();
    let mut state = seed(symbol, page);
    // Each price is `123.45`: six bytes, and a comma before all but the first.
    loop {
        let comma = usize::from(!body.ends_with(b"["));
        if body.len() + comma + 6 + CLOSING.len() > payload_bytes {
            break;
        }
        if comma == 1 {
            body.push(b',');
        }
        let cents = 10_000 + next_random(&mut state) % 90_000;
        body.extend_from_slice(format!("{}.{:02}", cents / 100, cents % 100).as_bytes());
    }
    if body.len() + CLOSING.len() > payload_bytes {
        body.extend_from_slice(CLOSING);
        body.truncate(payload_bytes);
    } else {
        body.resize(payload_bytes - CLOSING.len(), b' ');
        body.extend_from_slice(CLOSING);
    }
    body
}

/// A seed from the symbol and page (FNV-1a).
fn seed(symbol: &str, page: u64) -> u64 {
    let bytes = symbol.bytes().chain(page.to_le_bytes());
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The next number of a splitmix64 sequence.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Binds 127.0.0.1 on a free port with a long accept queue, so that
/// thousands of clients connecting at once are queued, not refused.
fn bind_loopback() -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    socket.listen(65_535) // The kernel caps it at net.core.somaxconn.
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => drop(tokio::spawn(serve(stream, Arc::clone(&shared)))),
                // Out of file descriptors, most likely: wait for some to close.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

/// A parsed request: what to answer, and what to do with the connection.
struct Request {
    reply: Reply,
    keep_alive: bool,
    body_bytes: u64,
}

/// What the server answers to one request.
enum Reply {
    Ticker { symbol: String, page: u64, latency: Option<Duration> },
    Error { status: &'static str, message: &'static str },
}

/// Serves the requests of one connection in order, until the client closes
/// it, asks to, sends something the server cannot serve, or goes idle.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let idle = shared.idle_timeout;
    let (reader, mut writer) = stream.split();
    let mut reader = BufReader::new(reader);
    loop {
        let head = match timeout(idle, read_head(&mut reader)).await {
            Ok(Ok(Some(head))) => head,
            _ => return, // Idle, closed, or cut off mid-request.
        };
        let request = parse(&head).unwrap_or_else(|message| Request {
            reply: Reply::Error { status: "400 Bad Request", message },
            keep_alive: false,
            body_bytes: 0,
        });
        if request.keep_alive && !discard(&mut reader, request.body_bytes, idle).await {
            return;
        }
        if respond(&mut writer, request.reply, request.keep_alive, &shared).await.is_err() {
            return;
        }
        if !request.keep_alive {
            break;
        }
    }
    // Closing a socket with unread bytes in it makes the kernel reset the
    // connection, and the client could lose the response it has not read
    // yet. So send end-of-stream, and read what the client still sends for a
    // while: a lingering close, as HTTP servers do.
    let _ = writer.shutdown().await;
    let _ = timeout(Duration::from_secs(1), discard(&mut reader, u64::MAX, idle)).await;
}

/// Reads one request head, up to and including its blank line. `None` means
/// the client closed the connection between requests. A head longer than
/// `MAX_HEAD_BYTES` is returned cut short, without its blank line.
async fn read_head<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<String>> {
    let mut limited = reader.take(MAX_HEAD_BYTES);
    let mut head = Vec::new();
    loop {
        let start = head.len();
        if limited.read_until(b'\n', &mut head).await? == 0 {
            return match (head.is_empty(), limited.limit()) {
                (true, _) => Ok(None),
                (false, 0) => Ok(Some(String::from_utf8_lossy(&head).into_owned())),
                (false, _) => Err(io::ErrorKind::UnexpectedEof.into()),
            };
        }
        let line = &head[start..];
        if line == b"\r\n" || line == b"\n" {
            if start == 0 {
                head.clear(); // An empty line before a request is ignored.
                continue;
            }
            return Ok(Some(String::from_utf8_lossy(&head).into_owned()));
        }
    }
}

/// Parses a request head; `Err` holds the message of a `400` answer.
fn parse(head: &str) -> Result<Request, &'static str> {
    let mut lines = head.lines();
    let mut words = lines.next().unwrap_or("").split(' ');
    let (method, target, version) = match (words.next(), words.next(), words.next(), words.next()) {
        (Some(method), Some(target), Some(version), None) => (method, target, version),
        _ => return Err("malformed request line"),
    };
    let mut keep_alive = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err("only HTTP/1.1 and HTTP/1.0 are supported"),
    };
    let http_1_1 = version == "HTTP/1.1";
    let (mut body_bytes, mut ended, mut host) = (0, false, false);
    for line in lines {
        if line.is_empty() {
            ended = true;
            continue;
        }
        let (name, value) = line.split_once(':').ok_or("malformed header")?;
        let value = value.trim().to_ascii_lowercase();
        if name.eq_ignore_ascii_case("host") {
            host = true;
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = keep_alive && !value.contains("close") || value.contains("keep-alive");
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("request bodies with Transfer-Encoding are not supported");
        } else if name.eq_ignore_ascii_case("content-length") {
            body_bytes = match value.parse() {
                Ok(bytes) if bytes <= MAX_REQUEST_BODY => bytes,
                _ => return Err("bad or too large Content-Length"),
            };
        }
    }
    if !ended {
        return Err("request head too large");
    }
    if http_1_1 && !host {
        // RFC 9112, section 3.2: a server must answer 400 to an HTTP/1.1
        // request without Host; so the listings' hand-written requests are valid.
        return Err("an HTTP/1.1 request needs a Host header");
    }
    if method != "GET" {
        return Err("only GET is supported");
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let reply = match path.strip_prefix("/ticker/") {
        Some(symbol) if is_symbol(symbol) => ticker_reply(symbol, query)?,
        _ => Reply::Error {
            status: "404 Not Found",
            message: "not found: try GET /ticker/ACME?page=1",
        },
    };
    Ok(Request { reply, keep_alive, body_bytes })
}

/// The reply to `/ticker/<symbol>?<query>`; the page defaults to 1.
fn ticker_reply(symbol: &str, query: &str) -> Result<Reply, &'static str> {
    let (mut page, mut latency) = (1, None);
    for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        match key {
            "page" => page = value.parse().map_err(|_| "page must be a whole number")?,
            "latency_ms" => match value.parse() {
                Ok(ms) if ms <= MAX_LATENCY_MS => latency = Some(Duration::from_millis(ms)),
                _ => return Err("latency_ms must be a whole number of at most 30000"),
            },
            _ => {}
        }
    }
    let symbol = symbol.to_string();
    Ok(Reply::Ticker { symbol, page, latency })
}

/// A symbol is 1 to 16 ASCII letters, digits, `.` or `-`.
fn is_symbol(symbol: &str) -> bool {
    (1..=16).contains(&symbol.len())
        && symbol.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// Reads and drops up to `bytes` bytes; false if fewer arrive within `idle`.
async fn discard<R: AsyncBufRead + Unpin>(reader: &mut R, bytes: u64, idle: Duration) -> bool {
    let mut body = reader.take(bytes);
    let copied = timeout(idle, tokio::io::copy(&mut body, &mut tokio::io::sink())).await;
    matches!(copied, Ok(Ok(n)) if n == bytes)
}

/// Waits the latency, then writes the reply, in pieces if so configured.
/// With a capacity, a permit to serve, after waiting in line if there is
/// none free; the line's depth is counted while it waits.
async fn wait_for_capacity(shared: &Shared) -> Option<tokio::sync::SemaphorePermit<'_>> {
    let capacity = shared.capacity.as_ref()?;
    if let Ok(permit) = capacity.try_acquire() {
        return Some(permit);
    }
    let waiting = shared.waiting.fetch_add(1, Ordering::SeqCst) + 1;
    shared.peak_waiting.fetch_max(waiting, Ordering::SeqCst);
    let permit = capacity.acquire().await.ok();
    shared.waiting.fetch_sub(1, Ordering::SeqCst);
    permit
}

async fn respond<W: AsyncWrite + Unpin>(
    writer: &mut W,
    reply: Reply,
    keep_alive: bool,
    shared: &Shared,
) -> io::Result<()> {
    let config = &shared.config;
    let (status, content_type, body) = match reply {
        Reply::Ticker { symbol, page, latency } => {
            let _permit = wait_for_capacity(shared).await;
            tokio::time::sleep(latency.unwrap_or(config.latency)).await;
            let body = ticker_body(&symbol, page, config.payload_bytes);
            ("200 OK", "application/json", body)
        }
        Reply::Error { status, message } => {
            (status, "text/plain", format!("{message}\n").into_bytes())
        }
    };
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    let piece_bytes = match config.chunk_bytes {
        Some(bytes) if bytes > 0 && status == "200 OK" => bytes,
        _ => usize::MAX,
    };
    let mut pieces = body.chunks(piece_bytes);
    head.extend_from_slice(pieces.next().unwrap_or_default());
    let mut next: &[u8] = &head;
    for piece in pieces {
        write_within(writer, next, shared.idle_timeout).await?;
        tokio::time::sleep(config.chunk_gap).await;
        next = piece;
    }
    // Counted before the last write, so that a client that has read the
    // whole response finds it counted.
    shared.served.fetch_add(1, Ordering::SeqCst);
    write_within(writer, next, shared.idle_timeout).await
}

/// Writes all of `bytes`, or fails if the client reads nothing for `idle`.
async fn write_within<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    idle: Duration,
) -> io::Result<()> {
    match timeout(idle, writer.write_all(bytes)).await {
        Ok(written) => written,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

#[cfg(test)]
mod tests;
