use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use crate::ch03::ordered_pool::map_in_order;

/// Runs `map_in_order` on `items` with `workers`, where each item is a
/// delay in ms; checks the results, and returns the most items that were
/// being worked on at the same time.
fn check(items: &[u64], workers: usize, expected: &[String]) -> usize {
    let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let results = map_in_order(items.to_vec(), workers, |ms| {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(ms));
        running.fetch_sub(1, Ordering::SeqCst);
        format!("page {ms}")
    });
    assert_eq!(results, expected);
    most.load(Ordering::SeqCst)
}

#[test]
fn results_come_back_in_input_order_though_they_finish_in_reverse() {
    let items = [80, 60, 40, 20, 0];
    let expected: Vec<String> = items.iter().map(|ms| format!("page {ms}")).collect();
    let most = check(&items, 5, &expected);
    assert!(most <= 5, "{most} items at once with 5 workers");
}

#[test]
fn never_more_items_at_once_than_workers() {
    let items: Vec<u64> = (0..12).map(|i| i % 3).collect();
    let expected: Vec<String> = items.iter().map(|ms| format!("page {ms}")).collect();
    let most = check(&items, 3, &expected);
    assert!(most <= 3, "{most} items at once with 3 workers");
}

#[test]
fn no_items_no_results() {
    assert_eq!(check(&[], 4, &[]), 0);
}

#[test]
fn the_workers_really_run_at_the_same_time() {
    // Each of the first 4 items waits (up to 5 s) until 4 items are running
    // at once; a pool that runs fewer at once makes them time out.
    let (arrived, all_here) = (Mutex::new(0), Condvar::new());
    let timed_out = AtomicUsize::new(0);
    let results = map_in_order((0..8).collect(), 4, |item: u32| {
        if item < 4 {
            let mut count = arrived.lock().unwrap();
            *count += 1;
            all_here.notify_all();
            let (_count, wait) = all_here
                .wait_timeout_while(count, Duration::from_secs(5), |count| *count < 4)
                .unwrap();
            timed_out.fetch_add(usize::from(wait.timed_out()), Ordering::SeqCst);
        }
        item * 10
    });
    assert_eq!(results, (0..8).map(|i| i * 10).collect::<Vec<_>>());
    assert_eq!(timed_out.load(Ordering::SeqCst), 0, "4 workers never ran 4 items at once");
}
