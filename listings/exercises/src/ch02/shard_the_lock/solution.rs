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
pub fn tally_sharded(
    readings: &[u64],
    buckets: usize,
    threads: usize,
    classify: &(dyn Fn(u64) -> usize + Sync),
) -> Vec<u64> {
    // One lock per bucket. An `AtomicU64` per bucket would do as well, and
    // one `Vec` per thread, added up at the end, would need no lock at all.
    let counts: Vec<Mutex<u64>> = (0..buckets).map(|_| Mutex::new(0)).collect();
    let share = readings.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|scope| {
        for part in readings.chunks(share) {
            let counts = &counts;
            scope.spawn(move || {
                for &reading in part {
                    // The CPU-bound part runs without any lock held...
                    let bucket = classify(reading);
                    // ...and only the one bucket it touches is locked.
                    *counts[bucket].lock().unwrap() += 1;
                }
            });
        }
    });
    counts.into_iter().map(|count| count.into_inner().unwrap()).collect()
}
