//! An `async fn` is a state machine as big as what it holds across `.await`: bytes, not a stack.
//!
//!     cargo run --release -p ch05 --bin future_size

use std::net::SocketAddr;
use std::process::ExitCode;

use support::report::{Table, figure, verdict};
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
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
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

// ANCHOR: sizes
/// The size of a future's state machine. Calling an async fn only builds the
/// machine in its first state; this measures it and drops it, never run.
fn bytes(future: impl Future) -> usize {
    size_of_val(&future)
}

/// Each future, what it keeps across its `.await`, and its size: built,
/// measured and dropped, never run.
fn sizes(server: SocketAddr, stream: &mut TcpStream) -> [(&'static str, &'static str, usize); 10] {
    let mut buffer = [0u8; 4096];
    [
        ("heartbeat", "nothing", bytes(heartbeat())),
        ("quote_after", "a tokio Sleep", bytes(quote_after(50))),
        ("tokio_read", "tokio's read: two references", bytes(stream.read(&mut buffer))),
        ("tokio_connect", "tokio's connect state", bytes(TcpStream::connect(server))),
        ("read_page", "4 KiB buffer, tokio's read", bytes(read_page(stream))),
        ("checksum_in_scope", "4 KiB, unused but in scope", bytes(checksum_in_scope())),
        ("checksum_in_block", "nothing: the 4 KiB block ended", bytes(checksum_in_block())),
        ("header_then_page", "1 KiB, then 4 KiB", bytes(header_then_page(stream))),
        ("header_and_page", "1 KiB and 4 KiB", bytes(header_and_page(stream))),
        ("fetch_page", "connect, then read_page", bytes(fetch_page(server))),
    ]
}
// ANCHOR_END: sizes

pub fn run(_args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let (_listener, server, mut stream) = runtime.expect("runtime").block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let server = listener.local_addr().expect("address");
        let stream = TcpStream::connect(server).await.expect("connect");
        (listener, server, stream)
    });
    let sizes = sizes(server, &mut stream);
    let mut table = Table::new(["future", "holds across .await", "size", "of a thread stack"]);
    for (name, holds, bytes) in sizes {
        let size = figure(&format!("{name}_bytes"), bytes as f64, "bytes");
        let share = 100.0 * bytes as f64 / THREAD_STACK as f64;
        table.cells(&format!("{name}|{holds}|{size}|{share:.3}%"));
    }
    let stack = figure("thread_stack_bytes", THREAD_STACK as f64, "bytes");
    table.cells(&format!("a thread (std default)|its whole stack|{stack}|100.000%"));
    table.print();
    let size = |wanted: &str| sizes.iter().find(|(name, ..)| *name == wanted).map_or(0, |s| s.2);
    let (page, in_scope, in_block) =
        (size("read_page"), size("checksum_in_scope"), size("checksum_in_block"));
    let largest = sizes.iter().map(|s| s.2).max().unwrap_or(0);
    let held = (4096..4096 + 512).contains(&page) && in_scope >= 4096 && in_block < 256;
    let held = held && size("header_and_page") >= 4096 + 1024 && largest * 100 < THREAD_STACK;
    let claim =
        "a future is as big as what it holds across .await, each well under 1% of a thread's stack";
    let kept = format!("4 KiB held: {page} B, in scope: {in_scope} B, in a block: {in_block} B");
    verdict(claim, held, &format!("{kept}; largest: {largest} B"))
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
