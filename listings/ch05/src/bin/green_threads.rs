//! Stackful coroutines (green threads) exist in Rust as a crate: each owns a stack, and a blocking call in one stops them all.
//!
//!     cargo run --release -p ch05 --bin green_threads -- --coroutines 10000 --switches 5 --samples 5

use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use support::report::{Table, metric, verdict};
use support::timing::{current_rss_bytes, summarize};

/// Run the same workload as stackful coroutines and as tokio tasks; then block inside one coroutine.
#[derive(clap::Parser)]
pub struct Args {
    /// How many coroutines, and how many tasks.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=20_000))]
    coroutines: u64,
    /// How many times each one suspends.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    switches: u64,
    /// Each coroutine's stack, in KiB (1024 is corosensei's default).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(16..=8192))]
    stack_kib: u64,
    /// How long the one blocking call sleeps, in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    sleep_ms: u64,
    /// Samples of the coroutine and task runs; times are their medians.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    samples: u64,
}

type Session = Coroutine<(), (), (), DefaultStack>;

// ANCHOR: stackful
/// Waits for the next quote. An ordinary function, not `async`: a stackful
/// coroutine can suspend from any depth of calls, because the whole call
/// stack is kept on the coroutine's own stack while it is suspended.
fn next_quote(yielder: &Yielder<(), ()>, blocking: Option<Duration>) {
    match blocking {
        // Nothing is monkey-patched: a blocking call blocks the OS thread, and
        // with it every coroutine on that thread.
        Some(delay) => std::thread::sleep(delay),
        None => yielder.suspend(()), // Back to the scheduler, mid-call.
    }
}

/// One ticker session on its own stack. Mapping a fresh stack costs system
/// calls (mmap, mprotect); a real green-thread runtime reuses stacks from a pool.
fn session(stack_kib: u64, switches: u64, blocking: Option<Duration>) -> Session {
    let stack = DefaultStack::new(stack_kib as usize * 1024).expect("map a stack");
    Coroutine::with_stack(stack, move |yielder, ()| {
        for _ in 0..switches {
            next_quote(yielder, blocking);
            if blocking.is_some() {
                yielder.suspend(()); // It did block; now it lets the others run.
            }
        }
    })
}

/// A round-robin scheduler: resume each coroutine in turn until all return.
/// Returns the longest any coroutine waited between two of its turns.
fn run_all(mut ready: VecDeque<(Session, Instant)>) -> Duration {
    let mut longest = Duration::ZERO;
    while let Some((mut coroutine, since)) = ready.pop_front() {
        longest = longest.max(since.elapsed());
        if let CoroutineResult::Yield(()) = coroutine.resume(()) {
            ready.push_back((coroutine, Instant::now()));
        }
    }
    longest
}
// ANCHOR_END: stackful

/// The workload as stackful coroutines: [create ns, resident bytes, switch ns] per coroutine.
fn coroutines(args: &Args) -> [f64; 3] {
    let (n, rss) = (args.coroutines as usize, current_rss_bytes());
    let created = Instant::now();
    let mut sessions: Vec<_> =
        (0..n).map(|_| session(args.stack_kib, args.switches, None)).collect();
    let create_ns = created.elapsed().as_nanos() as f64 / n as f64;
    for coroutine in sessions.iter_mut() {
        coroutine.resume(()); // First turn: each runs to its first suspend, touching its stack.
    }
    let rss_each = current_rss_bytes().saturating_sub(rss) as f64 / n as f64;
    // The simplest fair scheduler: every coroutine in turn, round after round.
    // The last round returns from each; the stacks are unmapped at the end.
    let started = Instant::now();
    for _ in 0..args.switches {
        for coroutine in sessions.iter_mut() {
            coroutine.resume(());
        }
    }
    let switch_ns = started.elapsed().as_nanos() as f64 / (n as f64 * args.switches as f64);
    [create_ns, rss_each, switch_ns]
}

/// The same workload as tokio tasks: [create ns, resident bytes, switch ns] per task.
fn tasks(args: &Args) -> [f64; 3] {
    let (n, switches) = (args.coroutines as usize, args.switches);
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async move {
        let (rss, created, first_turn) =
            (current_rss_bytes(), Instant::now(), Arc::new(AtomicUsize::new(0)));
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let first_turn = first_turn.clone();
                tokio::spawn(async move {
                    first_turn.fetch_add(1, Ordering::Relaxed);
                    for _ in 0..switches {
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let create_ns = created.elapsed().as_nanos() as f64 / n as f64;
        while first_turn.load(Ordering::Relaxed) < n {
            tokio::task::yield_now().await; // Until each task has had its first turn.
        }
        let rss_each = current_rss_bytes().saturating_sub(rss) as f64 / n as f64;
        let started = Instant::now();
        for handle in handles {
            handle.await.expect("the task finishes");
        }
        let switch_ns = started.elapsed().as_nanos() as f64 / (n as f64 * switches as f64);
        [create_ns, rss_each, switch_ns]
    })
}

pub fn run(args: Args) -> ExitCode {
    // Times are medians over the samples. Memory comes from the first sample
    // only: later ones reuse the memory the first one freed.
    let (mut co, mut task) = (Vec::new(), Vec::new());
    for _ in 0..args.samples {
        co.push(coroutines(&args));
        task.push(tasks(&args));
    }
    let median = |samples: &[[f64; 3]], i: usize| {
        summarize(&samples.iter().map(|s| s[i]).collect::<Vec<_>>()).median
    };
    let (co_create, co_rss, co_switch) = (median(&co, 0), co[0][1], median(&co, 2));
    let (task_create, task_rss, task_switch) = (median(&task, 0), task[0][1], median(&task, 2));
    let mut table = Table::new(["each one", "create", "resident", "reserved", "switch"]);
    let reserved = format!("{} KiB stack", args.stack_kib);
    table.row([
        "corosensei coroutine",
        &format!("{:.1} µs", co_create / 1e3),
        &format!("{co_rss:.0} B"),
        &reserved,
        &format!("{co_switch:.0} ns"),
    ]);
    table.row([
        "tokio task",
        &format!("{task_create:.0} ns"),
        &format!("{task_rss:.0} B"),
        "-",
        &format!("{task_switch:.0} ns"),
    ]);
    table.print();

    // ANCHOR: blocking
    // 100 sessions take turns; in the second run, one of them makes a
    // blocking call at each of its turns instead of suspending.
    let sleep = Duration::from_millis(args.sleep_ms);
    let take_turns = |blocking: Option<Duration>| {
        let first = session(64, 3, blocking);
        let others: Vec<_> = (1..100).map(|_| session(64, 3, None)).collect();
        let ready = std::iter::once(first).chain(others).map(|s| (s, Instant::now()));
        run_all(ready.collect())
    };
    let waited = take_turns(None);
    let waited_blocked = take_turns(Some(sleep));
    // ANCHOR_END: blocking
    println!(
        "longest wait between two turns: {:.3} ms; with one blocking call of {} ms per turn: {:.1} ms",
        waited.as_secs_f64() * 1e3,
        args.sleep_ms,
        waited_blocked.as_secs_f64() * 1e3
    );

    for (name, value, unit) in [
        ("coroutine_create_us", co_create / 1e3, "µs"),
        ("coroutine_rss_bytes", co_rss, "bytes"),
        ("coroutine_switch_ns", co_switch, "ns"),
        ("coroutine_stack_kib", args.stack_kib as f64, "KiB"),
        ("task_create_ns", task_create, "ns"),
        ("task_rss_bytes", task_rss, "bytes"),
        ("task_switch_ns", task_switch, "ns"),
        ("rss_ratio", co_rss / task_rss, "x"),
        ("wait_ms", waited.as_secs_f64() * 1e3, "ms"),
        ("wait_blocked_ms", waited_blocked.as_secs_f64() * 1e3, "ms"),
        ("sleep_ms", args.sleep_ms as f64, "ms"),
    ] {
        metric(name, value, unit);
    }
    let holds = co_rss >= 4096.0
        && co_rss > 2.0 * task_rss
        && co_switch < 1_000.0
        && task_switch < 1_000.0
        && waited_blocked >= sleep.mul_f64(0.9)
        && waited < sleep / 2;
    verdict(
        "a stackful coroutine keeps at least a page of stack resident, switches in under a microsecond, and a blocking call in one stalls all",
        holds,
        &format!(
            "{co_rss:.0} B vs {task_rss:.0} B per task; switch {co_switch:.0} ns vs {task_switch:.0} ns; others waited {:.1} ms",
            waited_blocked.as_secs_f64() * 1e3
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
