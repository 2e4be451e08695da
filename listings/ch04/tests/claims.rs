//! The claim of `cpu_in_processes` judged on the speed-ups it would measure
//! with 1, 2 and 16 cores, and on what a GIL would give.
//! (Sixteen cores cannot be measured here: the predicate is tested instead.)

#[allow(dead_code)]
#[path = "../src/bin/cpu_in_processes.rs"]
mod cpu_in_processes;

use cpu_in_processes::claim_holds;

#[test]
fn threads_keep_up_with_processes_on_one_two_and_sixteen_cores() {
    // (threads, processes) speed-ups over one thread, ten jobs.
    for (cores, threads, processes) in [(1, 0.99, 0.94), (2, 1.93, 1.88), (16, 9.6, 9.1)] {
        assert!(claim_holds(threads, processes), "on {cores} cores");
    }
}

#[test]
fn threads_held_to_one_core_by_a_lock_fail_where_processes_scale() {
    assert!(!claim_holds(1.0, 1.9), "two cores");
    assert!(!claim_holds(1.02, 9.4), "sixteen cores");
}

#[test]
fn on_one_core_a_gil_could_not_be_told_apart_and_the_claim_is_not_refuted() {
    assert!(claim_holds(0.97, 0.95));
}
