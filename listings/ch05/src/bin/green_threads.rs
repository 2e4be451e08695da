//! Stackful coroutines exist in Rust as a crate: each owns a stack; a blocking call stops them all.
//!
//!     cargo run --release -p ch05 --bin green_threads -- --coroutines 10000 --switches 5 --samples 5

use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use support::report::{Figure, Table, figure, verdict};
use support::timing::{current_rss_bytes, ms, summarize, time};

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

// ANCHOR: blocking
/// 100 sessions take turns; with `blocking`, one of them makes a blocking
/// call at each of its turns instead of suspending.
fn longest_wait(blocking: Option<Duration>) -> Duration {
    let first = session(64, 3, blocking);
    let others = (1..100).map(|_| session(64, 3, None));
    run_all(std::iter::once(first).chain(others).map(|s| (s, Instant::now())).collect())
}
// ANCHOR_END: blocking

/// The workload as stackful coroutines: [create ns, resident bytes, switch ns] per coroutine.
fn coroutines(args: &Args) -> [f64; 3] {
    let (n, rss) = (args.coroutines as usize, current_rss_bytes());
    let new = |_| session(args.stack_kib, args.switches, None);
    let (mut sessions, created) = time(|| (0..n).map(new).collect::<Vec<_>>());
    // First turn: each runs to its first suspend, touching its stack.
    sessions.iter_mut().for_each(|coroutine| _ = coroutine.resume(()));
    let rss_each = current_rss_bytes().saturating_sub(rss) as f64 / n as f64;
    // The simplest fair scheduler: every coroutine in turn, round after round.
    // The last round returns from each; the stacks are unmapped at the end.
    let ((), switched) = time(|| {
        (0..args.switches).for_each(|_| sessions.iter_mut().for_each(|c| _ = c.resume(())))
    });
    let turns = n as f64 * args.switches as f64;
    [created.as_nanos() as f64 / n as f64, rss_each, switched.as_nanos() as f64 / turns]
}

/// The same workload as tokio tasks: [create ns, resident bytes, switch ns] per task.
fn tasks(args: &Args) -> [f64; 3] {
    let (n, switches) = (args.coroutines as usize, args.switches);
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async move {
        let (rss, first_turn) = (current_rss_bytes(), Arc::new(AtomicUsize::new(0)));
        let task = |first_turn: Arc<AtomicUsize>| async move {
            first_turn.fetch_add(1, Ordering::Relaxed);
            for _ in 0..switches {
                tokio::task::yield_now().await;
            }
        };
        let spawn = |_| tokio::spawn(task(first_turn.clone()));
        let (handles, created) = time(|| (0..n).map(spawn).collect::<Vec<_>>());
        while first_turn.load(Ordering::Relaxed) < n {
            tokio::task::yield_now().await; // Until each task has had its first turn.
        }
        let rss_each = current_rss_bytes().saturating_sub(rss) as f64 / n as f64;
        let started = Instant::now();
        for handle in handles {
            handle.await.expect("the task finishes");
        }
        let (turns, switched) = (n as f64 * switches as f64, started.elapsed());
        [created.as_nanos() as f64 / n as f64, rss_each, switched.as_nanos() as f64 / turns]
    })
}

pub fn run(args: Args) -> ExitCode {
    // Times are medians over the samples. Memory comes from the first sample
    // only: later ones reuse the memory the first one freed.
    let (co, task): (Vec<_>, Vec<_>) =
        (0..args.samples).map(|_| (coroutines(&args), tasks(&args))).unzip();
    let median =
        |of: &[[f64; 3]], i| summarize(&of.iter().map(|s| s[i]).collect::<Vec<_>>()).median;
    let co_create = figure("coroutine_create_us", median(&co, 0) / 1e3, "µs");
    let co_rss = figure("coroutine_rss_bytes", co[0][1], "bytes");
    let co_switch = figure("coroutine_switch_ns", median(&co, 2), "ns");
    let stack = figure("coroutine_stack_kib", args.stack_kib as f64, "KiB");
    let task_create = figure("task_create_ns", median(&task, 0), "ns");
    let task_rss = figure("task_rss_bytes", task[0][1], "bytes");
    let task_switch = figure("task_switch_ns", median(&task, 2), "ns");
    figure("rss_ratio", co_rss.value / task_rss.value, "x");
    let mut table = Table::new(["each one", "create", "resident", "reserved", "switch"]);
    let (whole, reserved) = (|cell: Figure| format!("{cell:.0}"), format!("{stack} stack"));
    let (create, rss, switch) = (format!("{co_create:.1}"), whole(co_rss), whole(co_switch));
    table.row(["corosensei coroutine".into(), create, rss, reserved, switch]);
    let (create, rss, switch) = (whole(task_create), whole(task_rss), whole(task_switch));
    table.row(["tokio task".into(), create, rss, "-".into(), switch]);
    table.print();
    let sleep = Duration::from_millis(args.sleep_ms);
    let waited = figure("wait_ms", ms(longest_wait(None)), "ms");
    let blocked = figure("wait_blocked_ms", ms(longest_wait(Some(sleep))), "ms");
    let sleep_ms = figure("sleep_ms", args.sleep_ms as f64, "ms");
    println!(
        "longest wait between two turns: {waited:.3}; with one blocking call of {sleep_ms} per turn: {blocked:.1}"
    );
    let paged = co_rss.value >= 4096.0 && co_rss.value > 2.0 * task_rss.value;
    let quick = co_switch.value < 1_000.0 && task_switch.value < 1_000.0;
    let stalled = blocked.value >= 0.9 * sleep_ms.value && waited.value < sleep_ms.value / 2.0;
    verdict(
        "a stackful coroutine keeps at least a page of stack resident, switches in under a microsecond, and a blocking call in one stalls all",
        paged && quick && stalled,
        &format!(
            "{co_rss:.0} vs {task_rss:.0} per task; switch {co_switch:.0} vs {task_switch:.0}; others waited {blocked:.1}"
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
