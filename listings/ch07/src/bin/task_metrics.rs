//! tokio-metrics counts each task's slow polls as the watchdog did; tracing times the calls inside.
//!
//!     cargo run --release -p ch07 --bin task_metrics -- --threshold-us 100

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use ch07::handlers::{self, history_report, quote_from_cache, rate_limited_quote};
use support::report::{Table, figure, verdict};
use tokio_metrics::TaskMonitor;
use tracing_subscriber::fmt::{MakeWriter, format::FmtSpan};

/// Run the watchdog's three handlers under tokio-metrics and a tracing subscriber.
#[derive(clap::Parser)]
pub struct Args {
    /// A poll longer than this counts as slow, in microseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=100_000))]
    threshold_us: u64,
    /// How many requests each handler serves.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    requests: u64,
}

/// Where the subscriber writes: a buffer the listing reads afterwards.
static SPANS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

// ANCHOR: monitors
/// One `TaskMonitor` per kind of task (tokio-metrics' advice), each counting
/// its tasks' polls, slow ones apart; and a subscriber that reports every
/// span when it closes, with the time spent inside it.
fn watch(args: &Args, path: std::path::PathBuf) -> [tokio_metrics::TaskMetrics; 3] {
    let threshold = Duration::from_micros(args.threshold_us);
    let monitor = || {
        let mut builder = TaskMonitor::builder();
        builder.with_slow_poll_threshold(threshold);
        builder.build()
    };
    let monitors = [monitor(), monitor(), monitor()];
    let subscriber = tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE) // "close time.busy=2.07ms time.idle=..."
        .with_target(false)
        .with_timer(()) // no clock on each line; the spans still time themselves
        .with_ansi(false)
        .with_writer(|| SPANS.make_writer())
        .finish();
    let _listening = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let ended = runtime.expect("a runtime").block_on(async {
        let n = args.requests;
        tokio::join!(
            tokio::spawn(monitors[0].instrument(quote_from_cache(n))),
            tokio::spawn(monitors[1].instrument(rate_limited_quote(n))),
            tokio::spawn(monitors[2].instrument(history_report(n, path))),
        )
    });
    assert!(ended.0.is_ok() && ended.1.is_ok() && ended.2.is_ok(), "every handler ends");
    monitors.map(|monitor| monitor.cumulative())
}
// ANCHOR_END: monitors

pub fn run(args: Args) -> ExitCode {
    let (_dir, path) = handlers::history_file();
    let metrics = watch(&args, path);
    let log = std::mem::take(&mut *SPANS.lock().unwrap()); // Empty for the next run.
    let log = String::from_utf8_lossy(&log);
    let closed: Vec<&str> = log.lines().map(str::trim).filter(|l| l.contains("close")).collect();
    println!("the subscriber's first lines (of {} spans closed):", closed.len());
    closed.iter().take(3).for_each(|line| println!("  {line}"));
    let mut table = Table::new(["handler", "polls", "slow polls", "time in slow polls"]);
    let mut slow = Vec::new();
    for (name, task) in handlers::NAMES.iter().zip(&metrics) {
        let count = figure(&format!("{name}_slow_polls"), task.total_slow_poll_count as f64, "");
        let time = support::timing::ms(task.total_slow_poll_duration);
        let time = figure(&format!("{name}_slow_poll_ms"), time, "ms");
        table.cells(&format!("{name}|{}|{count}|{time:.1}", task.total_poll_count));
        slow.push(count.value as u64);
    }
    table.print();
    let (n, reads) = (args.requests, args.requests.div_ceil(5));
    let spans =
        |name: &str| closed.iter().filter(|line| line.starts_with(&format!("INFO {name}"))).count();
    let (limiter_spans, read_spans) = (spans("rate_limiter") as u64, spans("read_history") as u64);
    // As with the watchdog: the OS may stall a well-behaved poll now and then.
    let holds = slow[1] >= n
        && slow[2] >= reads
        && slow[0] <= n / 10 + 1
        && limiter_spans == n
        && read_spans == reads;
    verdict(
        "tokio-metrics flags every blocking poll of the right task; tracing closes a span per call",
        holds,
        &format!(
            "slow polls {} / {} / {}; spans: {limiter_spans} of {n} sleeps, {read_spans} of {reads} reads",
            slow[0], slow[1], slow[2]
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
