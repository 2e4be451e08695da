//! The claim of `cpu_threads` judged on the figures it would measure with
//! 1, 2 and 16 cores: true on each machine, and false where the lock leaked.
//! (Sixteen cores cannot be measured here: the predicate is tested instead.)

#[allow(dead_code)]
#[path = "../src/bin/cpu_threads.rs"]
mod cpu_threads;

use cpu_threads::claim_holds;

/// Rows: with the lock on 1, 2, 4 threads, then without it on 1, 2, 4.
const HELD_USED: [f64; 3] = [1.0, 1.0, 1.01];
const HELD_MOST: [f64; 3] = [1.0, 1.0, 1.0];

fn rows(free_used: [f64; 3], free_most: [f64; 3]) -> (Vec<f64>, Vec<f64>) {
    ([HELD_USED, free_used].concat(), [HELD_MOST, free_most].concat())
}

#[test]
fn on_one_core_the_free_threads_share_it() {
    let (used, most) = rows([1.0, 0.99, 0.98], [1.0, 1.0, 1.0]);
    assert!(claim_holds(&used, &most, 1.0));
}

#[test]
fn on_two_cores_four_free_threads_use_both() {
    let (used, most) = rows([1.0, 1.97, 1.96], [1.0, 2.0, 4.0]);
    assert!(claim_holds(&used, &most, 2.0));
}

#[test]
fn on_sixteen_cores_four_free_threads_use_four() {
    let (used, most) = rows([1.0, 1.99, 3.95], [1.0, 2.0, 4.0]);
    assert!(claim_holds(&used, &most, 16.0));
}

#[test]
fn a_lock_that_lets_two_threads_in_fails_on_any_machine() {
    let used = [1.0, 1.9, 3.8, 1.0, 1.97, 3.95];
    let most = [1.0, 2.0, 4.0, 1.0, 2.0, 4.0];
    for cores in [1.0, 2.0, 16.0] {
        assert!(!claim_holds(&used, &most, cores), "on {cores} cores");
    }
}

#[test]
fn free_threads_never_together_fail_where_there_was_a_second_core() {
    let (used, most) = rows([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]);
    assert!(claim_holds(&used, &most, 1.0));
    assert!(!claim_holds(&used, &most, 2.0));
    assert!(!claim_holds(&used, &most, 16.0));
}

#[test]
fn more_cores_used_than_the_machine_has_fails() {
    let (used, most) = rows([1.0, 1.97, 2.6], [1.0, 2.0, 4.0]);
    assert!(!claim_holds(&used, &most, 2.0));
}
