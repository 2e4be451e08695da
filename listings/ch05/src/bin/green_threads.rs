//! Stackful coroutines exist in Rust as a crate: each owns a stack; a blocking call stops them all.
//!
//!     cargo run --release -p ch05 --bin green_threads -- --coroutines 10000 --switches 5 --samples 5

use std::sync::{Arc, atomic::AtomicUsize, atomic::Ordering};
use std::time::{Duration, Instant};

use corosensei::{Coroutine, CoroutineResult, Yielder, stack::DefaultStack};
use support::report::{Table, figure, verdict};
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

// ANCHOR: stackful
/// Waits for the next quote. An ordinary function, not `async`: a stackful
/// coroutine can suspend from any depth of calls, because the whole call
/// stack is kept on the coroutine's own stack while it is suspended.
fn next_quote(yielder: &Yielder<(), ()>, blocking: Option<Duration>) {
    if let Some(delay) = blocking {
        std::thread::sleep(delay); // Unpatched: it blocks the OS thread, and every coroutine on it.
    }
    yielder.suspend(()); // Back to the scheduler, mid-call.
}

/// One ticker session on its own stack. Mapping a fresh stack costs system
/// calls (mmap, mprotect); a real green-thread runtime reuses stacks from a pool.
fn session(stack_kib: u64, switches: u64, blocking: Option<Duration>) -> Coroutine<(), (), ()> {
    let stack = DefaultStack::new(stack_kib as usize * 1024).expect("map a stack");
    Coroutine::with_stack(stack, move |yielder, ()| {
        for _ in 0..switches {
            next_quote(yielder, blocking);
        }
    })
}

/// The same session as a tokio task, a stackless coroutine: it can suspend
/// only at an `.await` of its own, never from inside a plain function it calls.
async fn task_session(switches: u64, first_turns: Arc<AtomicUsize>) {
    first_turns.fetch_add(1, Ordering::Relaxed); // Counted: memory is measured after all begin.
    for _ in 0..switches {
        tokio::task::yield_now().await; // Back to tokio's scheduler.
    }
}
// ANCHOR_END: stackful
// ANCHOR: blocking
/// Runs 100 sessions round-robin until all return: the longest any waited between two turns.
/// With `blocking`, one of them blocks at each of its turns before it suspends.
fn longest_wait(blocking: Option<Duration>) -> Duration {
    let sessions = (0..100).map(|i| session(64, 3, if i == 0 { blocking } else { None }));
    let mut ready: std::collections::VecDeque<_> = sessions.map(|s| (s, Instant::now())).collect();
    let mut longest = Duration::ZERO;
    while let Some((mut coroutine, since)) = ready.pop_front() {
        longest = longest.max(since.elapsed());
        if let CoroutineResult::Yield(()) = coroutine.resume(()) {
            ready.push_back((coroutine, Instant::now())); // To the back of the queue.
        }
    }
    longest
}
// ANCHOR_END: blocking

/// The workload as stackful coroutines: [ms to create, resident bytes, ms to switch], in all.
fn coroutines(args: &Args) -> [f64; 3] {
    let (n, rss) = (args.coroutines as usize, current_rss_bytes());
    let new = |_| session(args.stack_kib, args.switches, None);
    let (mut sessions, created) = time(|| (0..n).map(new).collect::<Vec<_>>());
    let mut round = || sessions.iter_mut().for_each(|c| _ = c.resume(())); // Each in turn.
    round(); // First turn: each runs to its first suspend, touching its stack.
    let resident = current_rss_bytes().saturating_sub(rss) as f64;
    let ((), switched) = time(|| (0..args.switches).for_each(|_| round())); // Last: all return.
    [ms(created), resident, ms(switched)]
}

/// The same workload as tokio tasks: [ms to create, resident bytes, ms to switch], in all.
fn tasks(args: &Args) -> [f64; 3] {
    let (n, switches) = (args.coroutines as usize, args.switches);
    tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(async move {
        let (rss, first_turns) = (current_rss_bytes(), Arc::new(AtomicUsize::new(0)));
        let spawn = |_| tokio::spawn(task_session(switches, first_turns.clone()));
        let (handles, created) = time(|| (0..n).map(spawn).collect::<Vec<_>>());
        while first_turns.load(Ordering::Relaxed) < n {
            tokio::task::yield_now().await; // Until each task has had its first turn.
        }
        let (resident, started) = (current_rss_bytes().saturating_sub(rss) as f64, Instant::now());
        for handle in handles {
            handle.await.expect("the task finishes");
        }
        [ms(created), resident, ms(started.elapsed())]
    })
}

pub fn run(args: Args) -> std::process::ExitCode {
    // Times are medians over the samples; memory is the first sample's (later ones reuse it).
    let (co, task): (Vec<_>, Vec<_>) =
        (0..args.samples).map(|_| (coroutines(&args), tasks(&args))).unzip();
    let median = |of: &[[f64; 3]], i| summarize(&of.iter().map(|s| s[i]).collect::<Vec<_>>());
    let (n, turns) = (args.coroutines as f64, (args.coroutines * args.switches) as f64);
    let co_create = figure("coroutine_create_us", median(&co, 0).median * 1e3 / n, "µs");
    let co_rss = figure("coroutine_rss_bytes", co[0][1] / n, "bytes");
    let co_switch = figure("coroutine_switch_ns", median(&co, 2).median * 1e6 / turns, "ns");
    let stack = figure("coroutine_stack_kib", args.stack_kib as f64, "KiB");
    let task_create = figure("task_create_ns", median(&task, 0).median * 1e6 / n, "ns");
    let task_rss = figure("task_rss_bytes", task[0][1] / n, "bytes");
    let task_switch = figure("task_switch_ns", median(&task, 2).median * 1e6 / turns, "ns");
    figure("rss_ratio", co_rss.value / task_rss.value, "x");
    let mut table = Table::new(["each one", "create", "resident", "reserved", "switch"]);
    table.cells(&format!("coroutine|{co_create:.1}|{co_rss:.0}|{stack} stack|{co_switch:.0}"));
    table.cells(&format!("tokio task|{task_create:.0}|{task_rss:.0}|-|{task_switch:.0}"));
    table.print();
    let sleep_ms = figure("sleep_ms", args.sleep_ms as f64, "ms");
    let waited = figure("wait_ms", ms(longest_wait(None)), "ms");
    let blocked = longest_wait(Some(Duration::from_millis(args.sleep_ms)));
    let blocked = figure("wait_blocked_ms", ms(blocked), "ms");
    let blocking = format!("with one blocking call of {sleep_ms} per turn: {blocked:.1}");
    println!("longest wait between two turns: {waited:.3}; {blocking}");
    let paged = co_rss.value >= 4096.0 && co_rss.value > 2.0 * task_rss.value;
    let quick = co_switch.value < 1_000.0 && task_switch.value < 1_000.0;
    let stalled = blocked.value >= 0.9 * sleep_ms.value && waited.value < sleep_ms.value / 2.0;
    let claim = "a stackful coroutine keeps at least a page of stack resident, switches in under a microsecond, and a blocking call in one stalls all";
    let evidence =
        format!("{co_rss:.0} vs {task_rss:.0} per task; switch {co_switch:.0} vs {task_switch:.0}");
    verdict(claim, paged && quick && stalled, &format!("{evidence}; others waited {blocked:.1}"))
}

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
