//! A blocking call in a task stalls every task on its thread; the async version does not.
//!
//!     cargo run --release -p ch07 --bin blocking_on_loop -- --block-ms 50 --file-mib 32

use std::path::PathBuf;
use std::time::Duration;

use support::report::{Table, figure, series, verdict};
use support::timing::{ms, percentile, summarize, time};
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

// ANCHOR: handler
enum Call {
    ThreadSleep(Duration),
    TokioSleep(Duration),
    StdRead(PathBuf),
    TokioRead(PathBuf),
    TokioStream(PathBuf),
}

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
            // system call is short, and the handler sums each piece as it comes.
            Call::TokioStream(path) => {
                let mut file = tokio::fs::File::open(path).await.expect("open the file");
                let mut piece = vec![0u8; 1 << 20];
                while let n @ 1.. = file.read(&mut piece).await.expect("read the file") {
                    std::hint::black_box(piece[..n].iter().map(|&b| b as u64).sum::<u64>());
                }
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Both tasks on one current-thread runtime: the gaps between the ticks, in ms.
#[tokio::main(flavor = "current_thread")]
async fn gaps_next_to(call: Call, calls: u64, tick: Duration) -> Vec<f64> {
    let heartbeat = ch07::heartbeat::Heartbeat::start(tick);
    tokio::time::sleep(tick * 3).await; // A few regular beats first.
    tokio::spawn(handle_request(call, calls)).await.expect("the handler ends");
    heartbeat.stop().await
}
// ANCHOR_END: handler

pub fn run(args: Args) -> std::process::ExitCode {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(&file, vec![7u8; (args.file_mib as usize) << 20]).expect("write the file");
    // A read alone, from the page cache (a blocking read's best case): the median of three.
    let alone: Vec<f64> = (0..3).map(|_| ms(time(|| std::fs::read(&file)).1)).collect();
    let read = figure("read_ms", summarize(&alone).median, "ms");
    let tick = figure("tick_ms", args.tick_ms as f64, "ms");
    let (pause, calls) = (Duration::from_millis(args.block_ms), args.calls);
    let cases = [
        ("std::thread::sleep", "thread_sleep", Call::ThreadSleep(pause)),
        ("tokio::time::sleep", "tokio_sleep", Call::TokioSleep(pause)),
        ("std::fs::read", "std_read", Call::StdRead(file.path().into())),
        ("tokio::fs::read", "tokio_read", Call::TokioRead(file.path().into())),
        ("tokio::fs::File, 1 MiB pieces", "tokio_stream", Call::TokioStream(file.path().into())),
    ];
    let mut table = Table::new(["the handler calls", "ticks", "stalls", "longest gap", "p99 gap"]);
    let [thread_sleep, tokio_sleep, std_read, _, streamed] = cases.map(|(label, name, call)| {
        let gaps = gaps_next_to(call, calls, Duration::from_millis(args.tick_ms));
        let call_ms = if name.ends_with("sleep") { args.block_ms as f64 } else { read.value };
        let stalled = gaps.iter().filter(|&&gap| gap > tick.value + call_ms / 2.0).count();
        let stalled = figure(&format!("{name}_stalls"), stalled as f64, "");
        let longest = figure(&format!("{name}_max_gap_ms"), percentile(&gaps, 100.0), "ms");
        let p99 = figure(&format!("{name}_p99_gap_ms"), percentile(&gaps, 99.0), "ms");
        table.cells(&format!("{label}|{}|{stalled} of {calls}|{longest:.1}|{p99:.1}", gaps.len()));
        // Each gap at the moment its tick came: the running sum of the gaps.
        let since_start = gaps.iter().scan(0.0, |sum, gap| Some(*sum + gap).inspect(|s| *sum = *s));
        let curve: Vec<(f64, f64)> = since_start.zip(gaps.iter().copied()).collect();
        series(&format!("gaps_{name}"), "ms since the heartbeat started", "ms", &curve);
        stalled.value as u64
    });
    table.print();
    println!("(a tick: {tick}; a read alone: {read:.0}; a stall: over a tick plus half a call)");
    // Each blocking call should stall the heartbeat once; half either way absorbs a stray stall.
    // The whole-file tokio::fs::read is reported, not checked: see the page.
    let (most, few) = (calls.div_ceil(2), calls / 2);
    verdict(
        "each blocking call stalls the heartbeat for its whole duration; the async calls do not",
        thread_sleep >= most && std_read >= most && tokio_sleep <= few && streamed <= few,
        &format!(
            "stalls in {calls} calls: {thread_sleep} with std::thread::sleep, {tokio_sleep} with tokio's; {std_read} with std::fs::read, {streamed} streamed with tokio::fs"
        ),
    )
}

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
