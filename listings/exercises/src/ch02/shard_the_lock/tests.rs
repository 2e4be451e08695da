use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::ch02::shard_the_lock::{tally_global, tally_sharded};

/// A bucket from some arithmetic: the CPU-bound part of the tally.
fn bucket_of(reading: u64, buckets: usize) -> usize {
    let mixed = (0..200).fold(reading, |x, _| x.wrapping_mul(6364136223846793005).wrapping_add(1));
    (mixed >> 33) as usize % buckets
}

/// Checks `tally_sharded` against a count made on one thread, and against
/// `tally_global`.
fn check(readings: &[u64], buckets: usize, threads: usize) {
    let classify = move |reading: u64| bucket_of(reading, buckets);
    let mut expected = vec![0; buckets];
    for &reading in readings {
        expected[classify(reading)] += 1;
    }
    let sharded = tally_sharded(readings, buckets, threads, &classify);
    assert_eq!(sharded, expected, "{threads} threads, {buckets} buckets");
    assert_eq!(sharded, tally_global(readings, buckets, threads, &classify));
}

#[test]
fn every_reading_is_counted_once() {
    let readings: Vec<u64> = (0..20_000).collect();
    for threads in [1, 2, 3, 4, 8] {
        check(&readings, 7, threads);
    }
    check(&readings, 1, 4);
}

#[test]
fn more_threads_than_readings_or_no_readings_at_all() {
    check(&[5, 6, 7], 4, 16);
    check(&[], 3, 4);
    assert_eq!(tally_sharded(&[], 3, 4, &|_| 0), vec![0, 0, 0]);
}

/// How many calls to `classify` are under way, the most ever at once, and
/// whether one call already gave up waiting for the others.
#[derive(Default)]
struct Rendezvous {
    under_way: usize,
    most: usize,
    gave_up: bool,
}

#[test]
fn threads_classify_at_the_same_time() {
    // Each call to `classify` waits until `THREADS` calls are under way at
    // once, for a second at most. Under one global lock they never are: the
    // first call gives up after a second, the others then pass straight on,
    // and the test fails.
    const THREADS: usize = 4;
    let (rendezvous, changed) = (Mutex::new(Rendezvous::default()), Condvar::new());
    let classify = |reading: u64| {
        let mut state = rendezvous.lock().unwrap();
        state.under_way += 1;
        state.most = state.most.max(state.under_way);
        changed.notify_all();
        let all_there = |state: &mut Rendezvous| state.most < THREADS && !state.gave_up;
        let (mut state, wait) =
            changed.wait_timeout_while(state, Duration::from_secs(1), all_there).unwrap();
        state.gave_up |= wait.timed_out();
        state.under_way -= 1;
        (reading % 3) as usize
    };
    let readings: Vec<u64> = (0..400).collect();
    let counts = tally_sharded(&readings, 3, THREADS, &classify);
    assert_eq!(counts, vec![134, 133, 133]);
    let most = rendezvous.lock().unwrap().most;
    assert_eq!(most, THREADS, "most classifications under way at once");
}
