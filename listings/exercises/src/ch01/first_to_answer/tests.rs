use std::time::Instant;

use support::latency::{Config, LatencyServer};

use crate::ch01::first_to_answer::first_to_answer;

/// Runs `first_to_answer` against a fresh server and checks the order of the
/// symbols, and that the waits overlapped: one after another they would take
/// the sum of the latencies, all at once about the longest. The check allows
/// anything below halfway between the two.
fn check(requests: &[(&str, u64)], expected: &[&str]) {
    let server = LatencyServer::start(Config::latency(0)).unwrap();
    let start = Instant::now();
    let answered = first_to_answer(server.addr(), requests).unwrap();
    let took = start.elapsed().as_millis() as u64;
    assert_eq!(answered, expected);
    let one_after_another: u64 = requests.iter().map(|(_, ms)| ms).sum();
    let all_at_once = requests.iter().map(|(_, ms)| *ms).max().unwrap_or(0);
    assert!(
        took < (one_after_another + all_at_once) / 2,
        "took {took} ms; all at once would take about {all_at_once} ms, one after another {one_after_another} ms"
    );
}

#[test]
fn symbols_come_back_in_the_order_they_were_answered() {
    check(&[("SLOW", 600), ("FAST", 50), ("MID", 300)], &["FAST", "MID", "SLOW"]);
}

#[test]
fn the_waits_overlap() {
    let requests: Vec<(String, u64)> = (0..8).map(|i| (format!("T{i}"), 100 + 100 * i)).collect();
    let requests: Vec<(&str, u64)> =
        requests.iter().rev().map(|(s, ms)| (s.as_str(), *ms)).collect();
    let expected: Vec<&str> = requests.iter().rev().map(|(s, _)| *s).collect();
    check(&requests, &expected);
}
