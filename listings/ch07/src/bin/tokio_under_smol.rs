//! A tokio-only client panics under smol; async-compat's `Compat` or a tokio side thread bridge it.
//!
//!     cargo run --release -p ch07 --bin tokio_under_smol -- --latency-ms 50

use std::net::SocketAddr;
use std::process::ExitCode;

use async_compat::Compat;
use support::latency::{Config, LatencyServer};
use support::panic::catch_panic;
use support::report::{Table, figure, verdict};
use support::timing::{ms, time};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Call a tokio-only client from smol, bare and through two bridges.
#[derive(clap::Parser)]
pub struct Args {
    /// The simulated API's latency, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=2000))]
    latency_ms: u64,
}

// ANCHOR: client
/// A client from a tokio-only crate: it uses tokio's sockets, which register
/// with the reactor of the tokio runtime the calling thread is in.
async fn fetch_quote(server: SocketAddr) -> std::io::Result<usize> {
    let mut stream = tokio::net::TcpStream::connect(server).await?;
    stream
        .write_all(b"GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(response.len())
}
// ANCHOR_END: client

pub fn run(args: Args) -> ExitCode {
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the server");
    let addr = server.addr();

    // ANCHOR: bare
    let bare = catch_panic(|| smol::block_on(fetch_quote(addr)));
    // ANCHOR_END: bare
    let message = bare.err().unwrap_or_else(|| "(no panic)".into());
    println!("fetch_quote() under smol::block_on panicked with:\n  {message}");

    // ANCHOR: bridges
    // Bridge 1: Compat enters a tokio runtime around every poll: the ambient
    // one, or else a global current-thread runtime that async-compat starts on
    // a thread of its own ("async-compat/tokio-1"), which drives tokio's reactor.
    let compat = || smol::block_on(Compat::new(fetch_quote(addr))).expect("a quote");
    // Bridge 2: a tokio runtime of our own, on its own thread; smol awaits the
    // JoinHandle, which is a oneshot channel back from the tokio side.
    let tokio_side =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build();
    let tokio_side = tokio_side.expect("a runtime");
    let handle = tokio_side.handle().clone();
    let side = || {
        smol::block_on(async { handle.spawn(fetch_quote(addr)).await }).unwrap().expect("a quote")
    };
    // ANCHOR_END: bridges
    let ((compat_bytes, compat), (side_bytes, side)) = (time(compat), time(side));
    drop(tokio_side);
    drop(server);

    let compat_ms = figure("compat_ms", ms(compat), "ms");
    let side_ms = figure("side_runtime_ms", ms(side), "ms");
    let mut table = Table::new(["fetch_quote() under smol", "outcome", "took"]);
    table.row(["bare", "panic (above)", "-"]);
    table.cells(&format!("Compat::new(..)|{compat_bytes} bytes|{compat_ms:.0}"));
    table.cells(&format!("a tokio runtime on a side thread|{side_bytes} bytes|{side_ms:.0}"));
    table.print();

    let core = "must be called from the context of a Tokio 1.x runtime";
    let holds = message.contains(core) && compat_bytes > 0 && compat_bytes == side_bytes;
    verdict(
        "a tokio-only client panics under smol, and both bridges make it work",
        holds,
        &format!("the panic says \"{core}\"; both bridges fetched {compat_bytes} bytes"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
