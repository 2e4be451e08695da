//! The claim of `cpu_every_model` judged on the cores each model would use
//! with 1, 2 and 16 cores, and on what a GIL would give.
//! (Sixteen cores cannot be measured here: the predicate is tested instead.)

#[allow(dead_code)]
#[path = "../src/bin/cpu_every_model.rs"]
mod cpu_every_model;

use cpu_every_model::claim_holds;

#[test]
fn on_one_core_no_model_finds_a_second_and_the_claim_holds() {
    // (sequential, threads, processes, spawn_blocking) cores used.
    assert!(claim_holds(0.99, 0.99, 0.97, 0.98));
}

#[test]
fn on_two_and_sixteen_cores_threads_use_what_processes_use() {
    assert!(claim_holds(1.0, 1.95, 1.9, 1.94));
    assert!(claim_holds(1.0, 9.7, 9.2, 9.6));
}

#[test]
fn threads_held_to_one_core_fail_where_processes_found_more() {
    assert!(!claim_holds(1.0, 1.0, 1.9, 1.95), "a GIL on two cores");
    assert!(!claim_holds(1.0, 1.95, 9.2, 1.0), "spawn_blocking on one core of sixteen");
}

#[test]
fn a_sequential_run_on_two_cores_is_a_bug_in_the_measure() {
    assert!(!claim_holds(1.6, 1.95, 1.9, 1.94));
}
