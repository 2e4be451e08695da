use std::collections::HashSet;

use crate::ch04::map_in_processes::map_in_processes;

/// A worker, written in sh: reads lines until its stdin closes, answers each.
fn worker(script: &str) -> [&str; 3] {
    ["sh", "-c", script]
}

fn check(script: &str, inputs: &[&str], workers: usize, expected: &[&str]) {
    let outputs = map_in_processes(&worker(script), inputs, workers).unwrap();
    assert_eq!(outputs, expected);
}

const SQUARE: &str = "while read n; do echo $((n * n)); done";

#[test]
fn outputs_come_back_in_the_order_of_the_inputs() {
    let inputs = ["1", "2", "3", "4", "5", "6", "7"];
    check(SQUARE, &inputs, 3, &["1", "4", "9", "16", "25", "36", "49"]);
    check(SQUARE, &inputs, 1, &["1", "4", "9", "16", "25", "36", "49"]);
}

#[test]
fn order_holds_when_later_inputs_finish_first() {
    // Each answer takes n tenths of a second: with one input per worker, the
    // last input is answered first.
    let slow = "while read n; do sleep 0.$n; echo done-$n; done";
    check(slow, &["3", "2", "1"], 3, &["done-3", "done-2", "done-1"]);
}

#[test]
fn the_work_is_spread_over_that_many_processes() {
    // Each worker answers with its process id.
    let pid = "while read n; do echo $$; done";
    let inputs = ["a", "b", "c", "d", "e", "f"];
    let outputs = map_in_processes(&worker(pid), &inputs, 3).unwrap();
    let processes: HashSet<&String> = outputs.iter().collect();
    assert_eq!(processes.len(), 3, "process ids seen: {outputs:?}");
    // More workers than inputs: no more processes than inputs.
    let outputs = map_in_processes(&worker(pid), &inputs[..2], 8).unwrap();
    assert_eq!(outputs.len(), 2);
}

#[test]
fn no_inputs_no_outputs() {
    check(SQUARE, &[], 4, &[]);
}

#[test]
fn a_worker_that_ends_early_is_an_error_not_a_hang() {
    // This worker answers one line, then exits.
    let once = "read n; echo $n";
    let result = map_in_processes(&worker(once), &["1", "2", "3"], 1);
    assert!(result.is_err(), "got {result:?}");
}

#[test]
fn a_program_that_does_not_exist_is_an_error() {
    let result = map_in_processes(&["no-such-worker-program"], &["1"], 1);
    assert!(result.is_err(), "got {result:?}");
}
