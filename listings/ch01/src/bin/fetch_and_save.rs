//! Blocking fetch-and-save is four straight lines; the thread blocks where data is not there yet.
//!
//!     cargo run --release -p ch01 --bin fetch_and_save -- --latency-ms 100

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use support::latency::{Config, LatencyServer, ticker_body};
use support::report::{Table, figure, verdict};
use support::timing::{ContextSwitches, ms, thread_context_switches};

/// Fetch one ticker page and write it to a file, with blocking calls.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
}

const REQUEST: &str =
    "GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n";

pub fn run(args: Args) -> ExitCode {
    // A 16 KiB page that arrives in 4 KiB pieces 1 ms apart, as packets do.
    let pieces = Duration::from_millis(1);
    let config = Config::latency(args.latency_ms).with_payload(16 * 1024).with_chunks(4096, pieces);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let dir = tempfile::tempdir().expect("create a scratch directory");
    let (path, mut steps) = (dir.path().join("ACME-1.json"), Steps::new());

    // ANCHOR: fetch_and_save
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    steps.mark("connect"); // measuring
    stream.write_all(REQUEST.as_bytes()).expect("send");
    steps.mark("send the request"); // measuring
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("receive"); // Until the server closes.
    steps.mark("receive the response"); // measuring
    fs::write(&path, body_of(&response)).expect("save the page");
    steps.mark("open + write the file"); // measuring
    // ANCHOR_END: fetch_and_save
    let wall = figure("wall_ms", ms(steps.start.elapsed()), "ms");

    let mut table = Table::new(["blocking step", "took", "times the thread blocked"]);
    for &(step, took, blocks) in &steps.done {
        figure(&format!("blocks_{}", step.split(' ').next_back().unwrap()), blocks as f64, "times");
        table.row([step.to_string(), format!("{took:.1} ms"), blocks.to_string()]);
    }
    table.print();
    let saved = fs::read(&path).expect("read the saved page");
    let same = saved == ticker_body("ACME", 1, config.payload_bytes);
    println!("saved {} bytes; identical to what the server sent: {same}", saved.len());
    println!("from the start to the file saved: {wall:.0}");
    let (latency, receive_blocks) = (args.latency_ms as f64, steps.done[2].2);
    let one_latency = wall.value >= 0.9 * latency && wall.value < 3.0 * latency + 100.0;
    verdict(
        "four blocking lines save the page in about one latency, blocking while the response arrives",
        same && one_latency && receive_blocks >= 1,
        &format!(
            "{wall:.0} at a {latency:.0} ms latency; blocked {receive_blocks} times receiving"
        ),
    )
}

/// Each step's name, duration in ms, and how often the thread blocked in it.
struct Steps {
    start: Instant,
    last: (Instant, ContextSwitches),
    done: Vec<(&'static str, f64, u64)>,
}

impl Steps {
    fn new() -> Steps {
        let last = (Instant::now(), thread_context_switches());
        Steps { start: last.0, last, done: Vec::new() }
    }

    /// Ends a step: a voluntary context switch is the thread blocking.
    fn mark(&mut self, step: &'static str) {
        let blocks = thread_context_switches().since(self.last.1).voluntary;
        self.done.push((step, ms(self.last.0.elapsed()), blocks));
        self.last = (Instant::now(), thread_context_switches());
    }
}

/// What follows the headers.
fn body_of(response: &[u8]) -> &[u8] {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n");
    &response[end.expect("a complete header") + 4..]
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
