//! A real Redis for one listing (or one test): Debian's `redis-server`,
//! started as a child on a Unix socket in a temporary folder, with no
//! persistence unless asked for one, and stopped on every exit path.
//!
//! ```no_run
//! use support::redis_server::RedisServer;
//!
//! let redis = RedisServer::start(); // waits until it answers PING
//! let mut connection = redis.connect();
//! let _: () = redis::cmd("SET").arg("greeting").arg("hello").query(&mut connection).unwrap();
//! println!("redis-server {} at {}", redis.version(), redis.url());
//! // Dropping `redis` kills the server and removes its folder.
//! ```

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child::Reaped;

/// A `redis-server` child process, the socket it listens on, and its folder.
/// The fields drop in order: the server is killed and reaped, then the
/// folder with its socket is removed.
pub struct RedisServer {
    server: Reaped,
    folder: tempfile::TempDir,
    socket: PathBuf,
    version: String,
    durability: Durability,
}

/// What Redis writes to disk, in its temporary folder.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Durability {
    /// Nothing: what is in memory is all there is.
    InMemory,
    /// An append-only file, written before each reply and flushed to the
    /// disk (fsync) once a second: `appendfsync everysec`.
    AofEverySec,
    /// An append-only file flushed to the disk before each reply:
    /// `appendfsync always`.
    AofAlways,
}

// ANCHOR: start
impl RedisServer {
    /// Starts `redis-server` with nothing on disk (see `start_with`).
    pub fn start() -> RedisServer {
        RedisServer::start_with(Durability::InMemory)
    }

    /// Starts `redis-server` and waits until it answers PING. Without the
    /// program, says how to install it and exits 2.
    pub fn start_with(durability: Durability) -> RedisServer {
        let version = Command::new("redis-server").arg("--version").output();
        let Ok(version) = version else {
            crate::cli::refuse("redis-server is missing: apt-get install redis-server")
        };
        let version = String::from_utf8_lossy(&version.stdout);
        // "Redis server v=7.0.15 sha=..." -> "7.0.15"
        let version = version.split_whitespace().find_map(|w| w.strip_prefix("v="));
        let version = version.unwrap_or("unknown").to_string();
        let folder = tempfile::tempdir().expect("a temporary folder");
        let socket = folder.path().join("redis.sock");
        let server = spawn(folder.path(), &socket, durability);
        let redis = RedisServer { server, folder, socket, version, durability };
        redis.wait_for_ping(Duration::from_secs(5));
        redis
    }
}

fn spawn(folder: &Path, socket: &Path, durability: Durability) -> Reaped {
    let mut command = Command::new("redis-server");
    // No TCP port at all: only this folder's socket, only for this user.
    command.args(["--port", "0", "--unixsocketperm", "700", "--unixsocket"]);
    // No snapshots; an append-only file only when asked for one.
    let appendfsync = match durability {
        Durability::InMemory => None,
        Durability::AofEverySec => Some("everysec"),
        Durability::AofAlways => Some("always"),
    };
    command.arg(socket).args(["--save", "", "--appendonly"]);
    command.arg(if appendfsync.is_some() { "yes" } else { "no" });
    command.args(["--appendfsync", appendfsync.unwrap_or("everysec")]);
    command.args(["--dir"]).arg(folder).args(["--loglevel", "warning"]);
    // The server stays in this process group, so a Ctrl-C in the terminal
    // reaches it too. If this process dies without dropping the guard (a
    // SIGKILL), the kernel kills the server as well.
    // SAFETY: between fork and exec the closure makes one system call,
    // prctl(2), which is async-signal-safe, and touches no memory.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.stdin(Stdio::null()).stdout(Stdio::null());
    Reaped(command.spawn().expect("start redis-server"))
}
// ANCHOR_END: start

// ANCHOR: restart
impl RedisServer {
    /// Kills the server with SIGKILL, as a crash would: nothing it holds
    /// only in memory survives.
    pub fn kill(&mut self) {
        self.server.0.kill().expect("SIGKILL redis-server"); // On Unix, kill is SIGKILL.
        self.server.0.wait().expect("reap redis-server");
    }

    /// Starts it again in the same folder, on the same socket: what it had
    /// written to its append-only file, it reads back before it answers.
    pub fn restart(&mut self) {
        self.server = spawn(self.folder.path(), &self.socket, self.durability);
        self.wait_for_ping(Duration::from_secs(5));
    }
}
// ANCHOR_END: restart

impl RedisServer {
    /// Asks PING until the server answers PONG (not LOADING: it answers
    /// that while it reads its append-only file back), or panics after `limit`.
    fn wait_for_ping(&self, limit: Duration) {
        let started = Instant::now();
        loop {
            let pong = redis::Client::open(self.url())
                .and_then(|client| client.get_connection())
                .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
            match pong {
                Ok(pong) if pong == "PONG" => return,
                _ if started.elapsed() > limit => panic!("redis-server did not answer: {pong:?}"),
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// The address clients connect to: `redis+unix:///tmp/.../redis.sock`.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// A new connection to the server.
    pub fn connect(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("a valid address");
        client.get_connection().expect("connect to redis-server")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.server.0.id()
    }

    /// Its version, as `redis-server --version` prints it: `7.0.15`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The CPU time the server's main thread, where Redis runs every
    /// command, has used so far, in milliseconds. `/proc/PID/schedstat`
    /// counts it in nanoseconds; `/proc/PID/stat` (the whole process, in
    /// ticks of 10 ms) is the fallback where schedstat is not compiled in.
    pub fn cpu_ms(&self) -> f64 {
        let pid = self.pid();
        if let Ok(schedstat) = std::fs::read_to_string(format!("/proc/{pid}/schedstat")) {
            let nanoseconds = schedstat.split_whitespace().next().and_then(|n| n.parse().ok());
            return nanoseconds.unwrap_or(0.0) / 1e6;
        }
        let stat =
            std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("its /proc/PID/stat");
        // The fields after the command's name, which ends at the last ')':
        // utime and stime are the 12th and 13th of them.
        let fields: Vec<&str> = stat.rsplit_once(')').expect("a stat line").1.split(' ').collect();
        let ticks: f64 = fields[12..=13].iter().map(|t| t.parse::<f64>().unwrap_or(0.0)).sum();
        // SAFETY: sysconf(3) has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        ticks / per_second * 1e3
    }
}
