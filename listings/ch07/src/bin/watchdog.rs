//! A watchdog timing every `poll` finds and names the tasks that block between two `.await`s.
//!
//!     cargo run --release -p ch07 --bin watchdog -- --threshold-us 100

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ch07::handlers::{self, history_report, quote_from_cache, rate_limited_quote};
use support::report::{Table, figure, verdict};
use support::timing::ms;

/// Run three request handlers under a watchdog and list their slow polls.
#[derive(clap::Parser)]
pub struct Args {
    /// A poll longer than this is reported, in microseconds (Alice Ryhl's rule of thumb: 10 to 100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=100_000))]
    threshold_us: u64,
    /// How many requests each handler serves.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    requests: u64,
}

// ANCHOR: watchdog
/// Wraps a future and times each call to its `poll`: the time the task held
/// the thread between two `.await`s. Polls longer than `threshold` are kept.
pub struct Watchdog<F> {
    name: &'static str,
    inner: Pin<Box<F>>,
    threshold: Duration,
    polls: u64,
    slow: SlowPolls,
}

/// Where watchdogs record slow polls: task name, which poll, how long.
type SlowPolls = Arc<Mutex<Vec<(&'static str, u64, Duration)>>>;

impl<F> Watchdog<F> {
    /// Watches `inner` under `name`; polls longer than `threshold` go to `slow`.
    pub fn new(name: &'static str, inner: F, threshold: Duration, slow: &SlowPolls) -> Self {
        let (inner, slow) = (Box::pin(inner), slow.clone());
        Watchdog { name, inner, threshold, polls: 0, slow }
    }
}

impl<F: Future> Future for Watchdog<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let started = Instant::now();
        let result = self.inner.as_mut().poll(cx);
        let took = started.elapsed();
        self.polls += 1;
        if took > self.threshold {
            let (name, poll) = (self.name, self.polls);
            self.slow.lock().unwrap().push((name, poll, took));
        }
        result
    }
}
// ANCHOR_END: watchdog

pub fn run(args: Args) -> ExitCode {
    let (_dir, path) = handlers::history_file();
    // ANCHOR: watch
    let (n, threshold) = (args.requests, Duration::from_micros(args.threshold_us));
    let slow = SlowPolls::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    runtime.expect("a runtime").block_on(async {
        let cache = Watchdog::new("quote_from_cache", quote_from_cache(n), threshold, &slow);
        let limited = Watchdog::new("rate_limited_quote", rate_limited_quote(n), threshold, &slow);
        let history = Watchdog::new("history_report", history_report(n, path), threshold, &slow);
        let (cache, limited, history) =
            tokio::join!(tokio::spawn(cache), tokio::spawn(limited), tokio::spawn(history));
        assert!(cache.is_ok() && limited.is_ok() && history.is_ok(), "every handler ends");
    });
    // ANCHOR_END: watch
    let slow = slow.lock().unwrap();
    println!("polls longer than {} µs:", args.threshold_us);
    for (name, poll, took) in slow.iter().take(12) {
        println!("  {name:<20} poll {poll:>3} held the thread {:>7.2} ms", ms(*took));
    }
    if slow.len() > 12 {
        println!("  ... and {} more", slow.len() - 12);
    }
    let mut table = Table::new(["handler", "slow polls", "longest poll"]);
    let [cache, limited, history] = handlers::NAMES.map(|name| {
        let mine: Vec<f64> = slow.iter().filter(|s| s.0 == name).map(|s| ms(s.2)).collect();
        let count = figure(&format!("{name}_slow_polls"), mine.len() as f64, "polls");
        let longest = mine.iter().copied().fold(0.0, f64::max);
        let longest = figure(&format!("{name}_longest_ms"), longest, "ms");
        table.cells(&format!("{name}|{count:#}|{longest:.2}"));
        count.value as u64
    });
    table.print();

    let reads = args.requests.div_ceil(5);
    // A well-behaved poll can still be slow now and then: the OS may take the
    // CPU away in the middle of it. A tenth of its polls is the margin.
    let holds = limited >= args.requests && history >= reads && cache <= args.requests / 10 + 1;
    verdict(
        "the watchdog flags every poll that blocked, and (almost) none of the well-behaved task's",
        holds,
        &format!(
            "{limited} of {} sleeps and {history} of {reads} reads flagged; {cache} slow polls in the cache handler",
            args.requests
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
