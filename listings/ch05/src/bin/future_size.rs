//! An `async fn` compiles to a state machine as big as what it holds across `.await`: bytes, not a stack.
//!
//!     cargo run --release -p ch05 --bin future_size

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use support::report::{Table, metric, verdict};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::yield_now;

/// Print the size of a few futures; they are created and dropped, never run.
#[derive(clap::Parser)]
pub struct Args {}

/// std's documented default stack for a spawned thread (std::thread, "Stack size").
const THREAD_STACK: usize = 2 << 20;

// ANCHOR: async_fns
/// Holds nothing across its `.await`.
async fn heartbeat() {
    yield_now().await;
}

/// Holds a tokio timer across its `.await`.
async fn quote_after(ms: u64) -> u32 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    10_157
}

/// Holds a 4 KiB buffer across its `.await`: the buffer lives in the future.
async fn read_page(stream: &mut TcpStream) -> usize {
    let mut page = [0u8; 4096];
    let n = stream.read(&mut page).await.unwrap_or(0);
    page[..n].iter().filter(|&&b| b == b'\n').count()
}

/// Uses a 4 KiB buffer for the last time before its `.await`, but the
/// buffer is still in scope there: the compiler keeps it in the future.
async fn checksum_in_scope() -> u32 {
    let page = std::hint::black_box([7u8; 4096]);
    let sum = page.iter().map(|&b| b as u32).sum();
    yield_now().await;
    sum
}

/// The same, with the buffer in a block that ends before the `.await`.
async fn checksum_in_block() -> u32 {
    let sum = {
        let page = std::hint::black_box([7u8; 4096]);
        page.iter().map(|&b| b as u32).sum()
    };
    yield_now().await;
    sum
}

/// Two buffers, one after the other: never live at the same time.
async fn header_then_page(stream: &mut TcpStream) -> usize {
    let header = {
        let mut header = [0u8; 1024];
        stream.read(&mut header).await.unwrap_or(0)
    };
    header + read_page(stream).await
}

/// Two buffers live at once across the second `.await`.
async fn header_and_page(stream: &mut TcpStream) -> usize {
    let mut header = [0u8; 1024];
    let n = stream.read(&mut header).await.unwrap_or(0);
    let mut page = [0u8; 4096];
    let m = stream.read(&mut page).await.unwrap_or(0);
    (header[..n].len() + page[..m].len()) * header.len()
}

/// Awaits another async fn: the callee's state machine is nested inside.
async fn fetch_page(server: SocketAddr) -> usize {
    let mut stream = TcpStream::connect(server).await.expect("connect");
    read_page(&mut stream).await
}
// ANCHOR_END: async_fns

/// What each future keeps across its `.await`, in words.
fn holds(name: &str) -> &'static str {
    match name {
        "heartbeat" => "nothing",
        "quote_after" => "a tokio Sleep",
        "tokio_read" => "tokio's read: two references",
        "tokio_connect" => "tokio's connect state",
        "read_page" => "4 KiB buffer, tokio's read",
        "checksum_in_scope" => "4 KiB, unused but in scope",
        "checksum_in_block" => "nothing: the 4 KiB block ended",
        "header_then_page" => "1 KiB, then 4 KiB",
        "header_and_page" => "1 KiB and 4 KiB",
        _ => "connect, then read_page",
    }
}

// ANCHOR: bytes
/// The size of a future's state machine. Calling an async fn only builds the
/// machine in its first state; this measures it and drops it, never run.
fn bytes(future: impl Future) -> usize {
    size_of_val(&future)
}
// ANCHOR_END: bytes

pub fn run(_args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let sizes = runtime.expect("runtime").block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let server = listener.local_addr().expect("address");
        let mut stream = TcpStream::connect(server).await.expect("connect");
        let mut buffer = [0u8; 4096];
        // ANCHOR: sizes
        [
            ("heartbeat", bytes(heartbeat())),
            ("quote_after", bytes(quote_after(50))),
            ("tokio_read", bytes(stream.read(&mut buffer))),
            ("tokio_connect", bytes(TcpStream::connect(server))),
            ("read_page", bytes(read_page(&mut stream))),
            ("checksum_in_scope", bytes(checksum_in_scope())),
            ("checksum_in_block", bytes(checksum_in_block())),
            ("header_then_page", bytes(header_then_page(&mut stream))),
            ("header_and_page", bytes(header_and_page(&mut stream))),
            ("fetch_page", bytes(fetch_page(server))),
        ]
        // ANCHOR_END: sizes
    });

    let mut table = Table::new(["future", "holds across .await", "size", "of a thread stack"]);
    for (name, bytes) in sizes {
        let share = format!("{:.3}%", 100.0 * bytes as f64 / THREAD_STACK as f64);
        table.row([name, holds(name), &format!("{bytes} B"), &share]);
        metric(&format!("{name}_bytes"), bytes as f64, "bytes");
    }
    let stack = format!("{THREAD_STACK} B");
    table.row(["a thread (std default)", "its whole stack", &stack, "100.000%"]);
    table.print();
    metric("thread_stack_bytes", THREAD_STACK as f64, "bytes");

    let size = |wanted: &str| sizes.iter().find(|(name, ..)| *name == wanted).map_or(0, |s| s.1);
    let (page, in_scope, in_block) =
        (size("read_page"), size("checksum_in_scope"), size("checksum_in_block"));
    let largest = sizes.iter().map(|s| s.1).max().unwrap_or(0);
    let holds = (4096..4096 + 512).contains(&page)
        && in_scope >= 4096
        && in_block < 256
        && size("header_and_page") >= 4096 + 1024
        && largest * 100 < THREAD_STACK;
    verdict(
        "a future is as big as what it holds across .await, each well under 1% of a thread's stack",
        holds,
        &format!(
            "4 KiB held: {page} B, in scope: {in_scope} B, in a block: {in_block} B; largest: {largest} B"
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
