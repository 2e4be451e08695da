//! A blocking call inside a task stalls every task on its thread for as long as it blocks; the async version does not.
//!
//!     cargo run --release -p ch07 --bin blocking_on_loop -- --block-ms 50 --file-mib 32

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::report::{Table, metric, series, verdict};
use tokio::io::AsyncReadExt;

/// Run a heartbeat next to a request handler that blocks, then next to its fix.
#[derive(clap::Parser)]
pub struct Args {
    /// How often the heartbeat should tick, in milliseconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=50))]
    tick_ms: u64,
    /// How many blocking calls the handler makes.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    calls: u64,
    /// How long each sleep lasts, in milliseconds (a stand-in for a blocking HTTP call).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(10..=1000))]
    block_ms: u64,
    /// The size of the file the handler reads, in MiB.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    file_mib: u64,
}

#[derive(Clone)]
enum Call {
    ThreadSleep(Duration),
    TokioSleep(Duration),
    StdRead(PathBuf),
    TokioRead(PathBuf),
    TokioStream(PathBuf),
}

// ANCHOR: handler
/// A request handler that makes `calls` calls, each followed by an `.await`
/// (here `yield_now`, in a real handler a query or a response write).
async fn handle_request(call: Call, calls: u64) {
    for _ in 0..calls {
        match &call {
            // Blocks this thread: no other task on it runs until it returns.
            Call::ThreadSleep(pause) => std::thread::sleep(*pause),
            Call::TokioSleep(pause) => tokio::time::sleep(*pause).await,
            // Blocks too: the page cache makes it fast, never non-blocking.
            Call::StdRead(path) => drop(std::fs::read(path).expect("read the file")),
            // Runs std::fs::read on tokio's blocking pool and awaits the result.
            Call::TokioRead(path) => drop(tokio::fs::read(path).await.expect("read the file")),
            // The file in 1 MiB pieces, each read on the blocking pool: every
            // system call is short, and the handler checksums as it goes.
            Call::TokioStream(path) => {
                let mut file = tokio::fs::File::open(path).await.expect("open the file");
                let (mut piece, mut checksum) = (vec![0u8; 1 << 20], 0u64);
                while let n @ 1.. = file.read(&mut piece).await.expect("read the file") {
                    checksum = piece[..n].iter().fold(checksum, |sum, &b| sum + b as u64);
                }
                std::hint::black_box(checksum);
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Ticks every `tick` until `done`; returns the gaps between ticks.
async fn heartbeat(tick: Duration, done: Arc<AtomicBool>) -> Vec<Duration> {
    let mut last = Instant::now();
    let mut gaps = Vec::new();
    while !done.load(Ordering::Relaxed) {
        tokio::time::sleep(tick).await;
        gaps.push(last.elapsed());
        last = Instant::now();
    }
    gaps
}

/// Both tasks on one current-thread runtime, the handler's calls timed.
fn gaps_next_to(call: Call, args: &Args) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    runtime.expect("a runtime").block_on(async {
        let done = Arc::new(AtomicBool::new(false));
        let tick = Duration::from_millis(args.tick_ms);
        let beats = tokio::spawn(heartbeat(tick, done.clone()));
        tokio::time::sleep(tick * 3).await; // A few regular beats first.
        tokio::spawn(handle_request(call, args.calls)).await.expect("the handler ends");
        done.store(true, Ordering::Relaxed);
        beats.await.expect("the heartbeat ends")
    })
}
// ANCHOR_END: handler

/// The largest gap and the 99th percentile, in milliseconds, and how many
/// gaps were stalls: longer than `stall_ms`.
fn summarize_gaps(gaps: &[Duration], stall_ms: f64) -> (f64, f64, u64) {
    let mut ms: Vec<f64> = gaps.iter().map(|g| g.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let p99 = ms[((ms.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)];
    let stalls = ms.iter().filter(|&&gap| gap > stall_ms).count() as u64;
    (ms[ms.len() - 1], p99, stalls)
}

fn write_file(dir: &Path, mib: u64) -> PathBuf {
    let path = dir.join("prices.bin");
    let mut file = std::fs::File::create(&path).expect("create the file");
    let block = vec![7u8; 1 << 20];
    for _ in 0..mib {
        file.write_all(&block).expect("write the file");
    }
    path
}

pub fn run(args: Args) -> ExitCode {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = write_file(dir.path(), args.file_mib);
    // Reads timed alone (the median of three): the page cache holds the file
    // now, the best case for a blocking read.
    let alone: Vec<f64> = (0..3)
        .map(|_| support::timing::time(|| std::fs::read(&path).expect("read")).1)
        .map(|took| took.as_secs_f64() * 1e3)
        .collect();
    let read_ms = support::timing::summarize(&alone).median;
    let pause = Duration::from_millis(args.block_ms);
    let cases = [
        ("std::thread::sleep", "thread_sleep", Call::ThreadSleep(pause)),
        ("tokio::time::sleep", "tokio_sleep", Call::TokioSleep(pause)),
        ("std::fs::read", "std_read", Call::StdRead(path.clone())),
        ("tokio::fs::read", "tokio_read", Call::TokioRead(path.clone())),
        ("tokio::fs::File, 1 MiB pieces", "tokio_stream", Call::TokioStream(path.clone())),
    ];
    let mut table = Table::new(["the handler calls", "ticks", "stalls", "longest gap", "p99 gap"]);
    let mut stalls = Vec::new();
    for (label, name, call) in cases {
        // A stall: a gap longer than a tick plus half of one call's blocking.
        let blocking = if name.ends_with("sleep") { args.block_ms as f64 } else { read_ms };
        let stall_ms = args.tick_ms as f64 + blocking / 2.0;
        let gaps = gaps_next_to(call, &args);
        let (max, p99, stalled) = summarize_gaps(&gaps, stall_ms);
        table.row([
            label.to_string(),
            gaps.len().to_string(),
            format!("{stalled} of {}", args.calls),
            format!("{max:.1} ms"),
            format!("{p99:.1} ms"),
        ]);
        metric(&format!("{name}_max_gap_ms"), max, "ms");
        metric(&format!("{name}_p99_gap_ms"), p99, "ms");
        metric(&format!("{name}_stalls"), stalled as f64, "");
        // Every gap at the moment its tick came: the running sum of the gaps
        // is the time since the heartbeat started.
        let mut since_start = 0.0;
        let curve: Vec<(f64, f64)> = gaps
            .iter()
            .map(|gap| {
                let ms = gap.as_secs_f64() * 1e3;
                since_start += ms;
                (since_start, ms)
            })
            .collect();
        series(&format!("gaps_{name}"), "ms since the heartbeat started", "ms", &curve);
        stalls.push(stalled);
    }
    table.print();
    println!(
        "(heartbeat every {} ms; {} calls of a {} ms sleep, or of a read of a {} MiB file, {read_ms:.0} ms alone; a stall: a gap over a tick plus half a call)",
        args.tick_ms, args.calls, args.block_ms, args.file_mib
    );
    metric("read_ms", read_ms, "ms");
    metric("tick_ms", args.tick_ms as f64, "ms");

    let [thread_sleep, tokio_sleep, std_read, _, streamed] = stalls[..] else {
        unreachable!("five cases")
    };
    // Every blocking call should stall the heartbeat once; the margin, half
    // of them either way, absorbs a stray stall from other programs on a busy
    // machine. The whole-file tokio::fs::read is reported, not checked: see
    // the page (and same_core_stall).
    let (most, few) = (args.calls.div_ceil(2), args.calls / 2);
    let holds = thread_sleep >= most && std_read >= most && tokio_sleep <= few && streamed <= few;
    verdict(
        "each blocking call stalls the heartbeat for its whole duration; the async calls do not",
        holds,
        &format!(
            "stalls in {} calls: {thread_sleep} with std::thread::sleep, {tokio_sleep} with tokio's; {std_read} with std::fs::read, {streamed} streamed with tokio::fs",
            args.calls
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
