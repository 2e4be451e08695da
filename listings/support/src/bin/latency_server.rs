//! Runs the workbook's simulated slow API on its own, to try it with `curl`.
//!
//!     cargo run -p support --bin latency_server -- --latency-ms 200 --payload-bytes 2048
//!
//! It serves for `--seconds` (60 by default) or until Ctrl-C, then stops.

use std::time::Duration;

use support::latency::{Config, LatencyServer};

/// Serve the paged ticker API on 127.0.0.1, slowly.
#[derive(clap::Parser)]
struct Args {
    /// How long the server waits before it answers each request, in ms.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// The size of each response body, in bytes.
    #[arg(long, default_value_t = 1024)]
    payload_bytes: usize,
    /// Send each body in pieces of this many bytes (all at once if absent or 0).
    #[arg(long)]
    chunk_bytes: Option<usize>,
    /// The pause between two pieces of a body, in ms.
    #[arg(long, default_value_t = 0)]
    chunk_gap_ms: u64,
    /// How long to serve before stopping, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

fn main() -> std::process::ExitCode {
    let args: Args = support::cli::parse();
    let mut config = Config::latency(args.latency_ms).with_payload(args.payload_bytes);
    if let Some(bytes) = args.chunk_bytes {
        config = config.with_chunks(bytes, Duration::from_millis(args.chunk_gap_ms));
    }
    let server = match LatencyServer::start(config) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: cannot start the latency server: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("serving on http://{} for {} s (Ctrl-C stops it sooner)", server.addr(), args.seconds);
    println!("try: curl '{}'", server.url("ACME", 1));
    println!("     curl '{}&latency_ms=1000'", server.url("ACME", 2));
    std::thread::sleep(Duration::from_secs(args.seconds));
    println!("served {} requests; stopping", server.requests_served());
    server.stop();
    std::process::ExitCode::SUCCESS
}
