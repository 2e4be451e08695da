use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crate::ch03::first_panic::{Job, run_all};

fn check(jobs: Vec<Job<u32>>, expected: Result<Vec<u32>, &str>) {
    assert_eq!(run_all(jobs), expected.map_err(str::to_string));
}

#[test]
fn results_in_job_order_when_nothing_panics() {
    let jobs: Vec<Job<u32>> = vec![
        Box::new(|| {
            thread::sleep(Duration::from_millis(50));
            1
        }),
        Box::new(|| 2),
        Box::new(|| 3),
    ];
    check(jobs, Ok(vec![1, 2, 3]));
}

#[test]
fn a_literal_panic_becomes_its_message() {
    check(vec![Box::new(|| 1), Box::new(|| panic!("feed closed"))], Err("feed closed"));
}

#[test]
fn a_formatted_panic_becomes_its_message() {
    let symbol = "ACME";
    check(
        vec![Box::new(move || panic!("no quote for {symbol}")), Box::new(|| 2)],
        Err("no quote for ACME"),
    );
}

#[test]
fn the_first_in_job_order_wins_not_the_first_in_time() {
    let jobs: Vec<Job<u32>> = vec![
        Box::new(|| 1),
        Box::new(|| {
            thread::sleep(Duration::from_millis(100));
            panic!("second job, late")
        }),
        Box::new(|| panic!("third job, at once")),
    ];
    check(jobs, Err("second job, late"));
}

#[test]
fn a_payload_that_is_not_text_still_gets_a_message() {
    check(vec![Box::new(|| std::panic::panic_any(42u8))], Err("a panic that is not text"));
}

#[test]
fn every_job_runs_to_its_end_even_after_a_panic() {
    let finished = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<Job<u32>> = (0..4u32)
        .map(|i| {
            let finished = Arc::clone(&finished);
            Box::new(move || {
                if i == 0 {
                    panic!("first job fails at once");
                }
                thread::sleep(Duration::from_millis(50 * i as u64));
                finished.fetch_add(1, Ordering::SeqCst);
                i
            }) as Job<u32>
        })
        .collect();
    check(jobs, Err("first job fails at once"));
    // run_all returned only after joining every thread.
    assert_eq!(finished.load(Ordering::SeqCst), 3);
}
