//! The job queue on Redis, in plain commands: a producer pushes jobs onto a
//! list, workers take them, each result is stored once. Two ways to take a
//! job: `BRPOP` (gone from Redis the moment it is taken) and the reliable
//! pattern (`BLMOVE` into the worker's own processing list, removed from it
//! by `LREM` once the result is stored, and moved back by a reaper if the
//! worker dies first).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::{Commands, Connection, Direction, ErrorKind, RedisResult, ServerErrorKind};
use serde::{Deserialize, Serialize};

/// The list the producer pushes onto and the workers take from.
pub const JOBS: &str = "jobs";

// ANCHOR: job
/// One job: a page to fetch, and when it was queued. It crosses Redis as
/// JSON, so a worker on another machine, in another language, can read it.
#[derive(Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub server: SocketAddr,
    pub page: u64,
    pub queued_us: u64,
}

/// The article's job: fetch the page and count its words.
pub fn count_words(job: &Job) -> u64 {
    let mut stream = TcpStream::connect(job.server).expect("connect to the API");
    stream.write_all(request(job).as_bytes()).expect("send the request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the response");
    words(&response)
}

/// The HTTP request for the job's page; the API closes the connection after it.
pub fn request(job: &Job) -> String {
    let page = job.page;
    format!("GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n")
}

/// The words of a response's body: runs of letters, digits and dots (the
/// page is a JSON list of prices).
pub fn words(response: &str) -> u64 {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let words = body.split(|c: char| !(c.is_alphanumeric() || c == '.'));
    words.filter(|word| !word.is_empty()).count() as u64
}
// ANCHOR_END: job

// ANCHOR: produce
/// The producer: each job at the back of the line, in one round trip.
pub fn push_jobs(redis: &mut Connection, jobs: &[Job]) {
    let encoded: Vec<String> = jobs.iter().map(|j| serde_json::to_string(j).unwrap()).collect();
    let _: usize = redis.lpush(JOBS, &encoded).expect("LPUSH the jobs");
}
// ANCHOR_END: produce

// ANCHOR: take
/// A worker takes the job at the front of the line, waiting if there is
/// none. From now on Redis no longer has it: if this worker dies before it
/// stores the result, the job is lost.
pub fn take(redis: &mut Connection) -> String {
    let (_list, job): (String, String) = redis.brpop(JOBS, 0.0).expect("BRPOP a job");
    job
}

/// The result, stored only if none is there yet (`SET ... NX`): a job done
/// twice stores once. Returns whether this was the first.
pub fn store(redis: &mut Connection, id: u64, words: u64) -> bool {
    let stored: Option<String> = redis::cmd("SET")
        .arg(format!("result:{id}"))
        .arg(words)
        .arg("NX")
        .query(redis)
        .expect("SET the result");
    stored.is_some()
}
// ANCHOR_END: take

// ANCHOR: reliable
/// The reliable take: the job moves, in one atomic step, from the queue to
/// this worker's own processing list, where it stays until acknowledged.
pub fn take_reliably(redis: &mut Connection, worker: &str) -> String {
    let job = take_within(redis, &format!("processing:{worker}"), 0.0).expect("BLMOVE a job");
    job.expect("no timeout")
}

/// The same move into the list `processing`, waiting at most `seconds`
/// (0: for ever) for a job; a failure is the caller's to handle.
pub fn take_within(
    redis: &mut Connection,
    processing: &str,
    seconds: f64,
) -> RedisResult<Option<String>> {
    redis.blmove(JOBS, processing, Direction::Right, Direction::Left, seconds)
}

/// The acknowledgement, once the result is stored: the job leaves the
/// processing list. A worker killed before this line leaves it there.
pub fn acknowledge(redis: &mut Connection, worker: &str, job: &str) {
    let _: usize = redis.lrem(format!("processing:{worker}"), 1, job).expect("LREM the job");
}

/// The reaper, for a worker known to be dead: every job it held goes back
/// to the front of the line. Returns how many.
pub fn requeue(redis: &mut Connection, dead_worker: &str) -> u64 {
    let processing = format!("processing:{dead_worker}");
    let mut moved = 0;
    while redis
        .lmove::<_, _, Option<String>>(&processing, JOBS, Direction::Right, Direction::Right)
        .expect("LMOVE a job back")
        .is_some()
    {
        moved += 1;
    }
    moved
}
// ANCHOR_END: reliable

/// The chapter's one-job-at-a-time worker: take a job, do it, store its
/// result, push its id onto `done`; again, until it takes "stop".
pub fn work_one_at_a_time(redis: &mut Connection) {
    loop {
        let job = take(redis);
        if job == "stop" {
            return;
        }
        let job: Job = serde_json::from_str(&job).expect("a well-formed job");
        store(redis, job.id, count_words(&job));
        let _: usize = redis.lpush("done", job.id).expect("LPUSH the receipt");
    }
}

/// How many clients wait in a blocking command (BRPOP, BLMOVE) now: the
/// workers that are ready for a job.
pub fn blocked_clients(redis: &mut Connection) -> u64 {
    let info: redis::InfoDict = redis::cmd("INFO").arg("clients").query(redis).expect("INFO");
    info.get("blocked_clients").unwrap_or(0)
}

/// Whether every job is done: none waits in the queue, none is held in a
/// worker's processing list (Redis deletes a list when it empties).
pub fn drained(redis: &mut Connection) -> bool {
    let held: Vec<String> = redis.keys("processing:*").expect("KEYS");
    held.is_empty() && !redis.exists::<_, bool>(JOBS).expect("EXISTS")
}

/// Polls until `done`, or for 30 s at most: a listing never hangs.
pub fn wait_for(mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Microseconds since the Unix epoch: one clock for every process of this
/// machine. (Across machines, clocks differ by more than a job takes.)
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_micros() as u64
}

// ANCHOR: resilient
/// A connection that rides out a Redis restart: a command that fails
/// because the server is gone (or still reading its file back) is sent
/// again on a new connection after a pause that doubles from 10 ms up to
/// 640 ms. One line on stderr says when the server went and came back.
pub struct Resilient {
    url: String,
    name: String,
    connection: Option<Connection>,
    /// How many times the connection was made again.
    pub reconnects: u64,
}

impl Resilient {
    pub fn new(url: &str, name: &str) -> Resilient {
        let (url, name) = (url.to_string(), name.to_string());
        Resilient { url, name, connection: None, reconnects: 0 }
    }

    pub fn run<T>(&mut self, mut command: impl FnMut(&mut Connection) -> RedisResult<T>) -> T {
        let (mut pause, mut tries) = (Duration::from_millis(10), 0);
        loop {
            let connection = match self.connection.take() {
                Some(connection) => Ok(connection),
                None => redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection()),
            };
            let error = match connection {
                Ok(mut connection) => match command(&mut connection) {
                    Ok(answer) => {
                        if tries > 0 {
                            eprintln!("{}: Redis is back after {tries} retries", self.name);
                        }
                        self.connection = Some(connection);
                        return answer;
                    }
                    Err(error) => error,
                },
                Err(error) => error,
            };
            let loading = error.kind() == ErrorKind::Server(ServerErrorKind::BusyLoading);
            if !(error.is_io_error() || error.is_connection_dropped() || loading) {
                panic!("{}: Redis refused a command: {error}", self.name);
            }
            if tries == 0 {
                eprintln!("{}: Redis is unreachable ({error}); retrying with backoff", self.name);
                self.reconnects += 1;
            }
            if tries == 40 {
                support::cli::refuse(format!("{}: Redis stayed unreachable: {error}", self.name));
            }
            std::thread::sleep(pause);
            (pause, tries) = ((pause * 2).min(Duration::from_millis(640)), tries + 1);
        }
    }
}
// ANCHOR_END: resilient
