//! Shard the lock: let a CPU-bound tally scale by locking only what it must.

use std::sync::Mutex;
use std::thread;

/// Counts how many `readings` fall in each of `buckets` buckets, on
/// `threads` threads that split the readings between them. `classify` says
/// which bucket a reading belongs in (always below `buckets`); it is the
/// CPU-bound part.
///
/// This version holds one lock over all of the work, the way a Python thread
/// holds the GIL over all Python code: it is correct, and no two threads
/// ever classify at the same time, so it cannot use a second core.
pub fn tally_global(
    readings: &[u64],
    buckets: usize,
    threads: usize,
    classify: &(dyn Fn(u64) -> usize + Sync),
) -> Vec<u64> {
    let counts = Mutex::new(vec![0; buckets]);
    let share = readings.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|scope| {
        for part in readings.chunks(share) {
            let counts = &counts;
            scope.spawn(move || {
                for &reading in part {
                    let mut counts = counts.lock().unwrap();
                    counts[classify(reading)] += 1;
                }
            });
        }
    });
    counts.into_inner().unwrap()
}

/// The same tally, with the classification outside any lock and one lock
/// per bucket, so threads only wait for each other when they count into the
/// same bucket at the same moment.
///
/// Hint: start from `tally_global`; a `Vec<Mutex<u64>>` has one lock per
/// bucket.
#[allow(unused_variables)]
pub fn tally_sharded(
    readings: &[u64],
    buckets: usize,
    threads: usize,
    classify: &(dyn Fn(u64) -> usize + Sync),
) -> Vec<u64> {
    todo!("classify outside any lock, then lock only the bucket it falls in")
}
