//! Blocking fetch-and-save is four straight lines; the thread blocks where data is not there yet.
//!
//!     cargo run --release -p ch01 --bin fetch_and_save -- --latency-ms 100

use std::io::{Read, Write};
use std::{fs, net::TcpStream, process::ExitCode, time::Duration, time::Instant};

use support::latency::{Config, LatencyServer, ticker_body};
use support::report::{Table, figure, verdict};
use support::timing::{ms, thread_context_switches};

/// Fetch one ticker page and write it to a file, with blocking calls.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=5000))]
    latency_ms: u64,
}

// ANCHOR: request
/// `Connection: close` asks the server to close the connection after its answer,
/// so the end of the stream is the end of the response.
const REQUEST: &str =
    "GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n";

/// The body is what follows the headers and the blank line that ends them.
fn body_of(response: &[u8]) -> &[u8] {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n");
    &response[end.expect("a complete header") + 4..]
}
// ANCHOR_END: request

pub fn run(args: Args) -> ExitCode {
    // A 16 KiB page that arrives in 4 KiB pieces 1 ms apart, as packets do.
    let pieces = Duration::from_millis(1);
    let config = Config::latency(args.latency_ms).with_payload(16 * 1024).with_chunks(4096, pieces);
    let server = LatencyServer::start(config.clone()).expect("start the server");
    let dir = tempfile::tempdir().expect("create a scratch directory");
    let path = dir.path().join("ACME-1.json");
    // Each step's name, duration in ms, and how often the thread blocked in it: a voluntary
    // context switch is the thread giving up the CPU to wait.
    let (start, mut steps) = (Instant::now(), Vec::new());
    let mut last = (start, thread_context_switches());
    let mut mark = |step: &'static str| {
        let blocks = thread_context_switches().since(last.1).voluntary;
        steps.push((step, ms(last.0.elapsed()), blocks));
        last = (Instant::now(), thread_context_switches());
    };

    // ANCHOR: fetch_and_save
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    mark("connect"); // measuring
    stream.write_all(REQUEST.as_bytes()).expect("send");
    mark("send the request"); // measuring
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("receive"); // Until the server closes.
    mark("receive the response"); // measuring
    fs::write(&path, body_of(&response)).expect("save the page");
    mark("open + write the file"); // measuring
    // ANCHOR_END: fetch_and_save
    let wall = figure("wall_ms", ms(start.elapsed()), "ms");

    let mut table = Table::new(["blocking step", "took", "times the thread blocked"]);
    for &(step, took, blocks) in &steps {
        figure(&format!("blocks_{}", step.split(' ').next_back().unwrap()), blocks as f64, "times");
        table.cells(&format!("{step}|{took:.1} ms|{blocks}"));
    }
    table.print();
    let saved = fs::read(&path).expect("read the saved page");
    let same = saved == ticker_body("ACME", 1, config.payload_bytes);
    println!("saved {} bytes; identical to what the server sent: {same}", saved.len());
    println!("from the start to the file saved: {wall:.0}");
    let (latency, receiving) = (args.latency_ms as f64, steps[2].2);
    let one_latency = wall.value >= 0.9 * latency && wall.value < 3.0 * latency + 100.0;
    verdict(
        "four blocking lines save the page in about one latency, blocking while the response arrives",
        same && one_latency && receiving >= 1,
        &format!("{wall:.0} at a {latency:.0} ms latency; blocked {receiving} times receiving"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
