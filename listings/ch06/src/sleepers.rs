//! The article's workload, on any runtime: one task per sleep, collected as
//! they complete. `mini_loop` runs it on the chapter's loop, `runtime_table`
//! on six runtimes.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

// ANCHOR: collect
/// Spawns every task, then awaits them in the order they finish. Returns how
/// many finished, the time to spawn one (ns), and how many threads were running.
pub async fn collect<F: Future>(
    sleeps: &[u64],
    spawn: impl Fn(Duration) -> F,
) -> (usize, f64, usize) {
    let spawning = Instant::now();
    let mut pending: FuturesUnordered<F> =
        sleeps.iter().map(|&t| spawn(Duration::from_millis(t))).collect();
    let spawn_ns = spawning.elapsed().as_nanos() as f64 / sleeps.len() as f64;
    // The threads are counted once, when the first sleep is over.
    let first = pending.next().await.is_some() as usize;
    let threads = std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count());
    (first + pending.count().await, spawn_ns, threads)
}
// ANCHOR_END: collect
