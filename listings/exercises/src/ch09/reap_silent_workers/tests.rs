use std::time::Duration;

use redis::{Commands, Connection};
use support::redis_server::RedisServer;

use crate::ch09::reap_silent_workers::{beat, reap_silent_workers};

/// Gives each worker its processing list, then reaps once.
/// Returns the server too: dropping it stops it, after the test.
fn check(workers: &[(&str, &[&str])], queued: &[&str]) -> (Vec<String>, Connection, RedisServer) {
    let redis = RedisServer::start();
    let mut connection = redis.connect();
    if !queued.is_empty() {
        let _: usize = connection.lpush("jobs", queued).unwrap();
    }
    for (worker, held) in workers {
        let _: usize = connection.lpush(format!("processing:{worker}"), *held).unwrap();
    }
    beat(&mut connection, "alive", 10_000);
    beat(&mut connection, "silent", 20);
    std::thread::sleep(Duration::from_millis(100)); // the silent worker's key expires
    let reaped = reap_silent_workers(&mut connection);
    (reaped, connection, redis)
}

#[test]
fn a_silent_workers_jobs_go_back_first_and_a_live_ones_stay() {
    let workers: &[(&str, &[&str])] = &[("alive", &["a1"]), ("silent", &["s1", "s2"])];
    let (reaped, mut redis, _server) = check(workers, &["q1"]);
    assert_eq!(reaped, ["silent"]);
    let alive: Vec<String> = redis.lrange("processing:alive", 0, -1).unwrap();
    assert_eq!(alive, ["a1"], "a worker with a heartbeat keeps its job");
    let silent: bool = redis.exists("processing:silent").unwrap();
    assert!(!silent, "the silent worker's list is emptied");
    // Workers take from the right: the reaped jobs must be the next two.
    let next: Vec<String> = redis.lrange("jobs", -2, -1).unwrap();
    assert_eq!(next.len(), 2);
    assert!(next.contains(&"s1".to_string()) && next.contains(&"s2".to_string()), "{next:?}");
    assert_eq!(redis.llen::<_, usize>("jobs").unwrap(), 3, "nothing lost, nothing doubled");
}

#[test]
fn a_worker_that_never_beat_is_reaped_and_nothing_else_is() {
    let workers: &[(&str, &[&str])] = &[("never", &["n1"]), ("alive", &["a1"])];
    let (reaped, mut redis, _server) = check(workers, &[]);
    assert_eq!(reaped, ["never"]);
    let jobs: Vec<String> = redis.lrange("jobs", 0, -1).unwrap();
    assert_eq!(jobs, ["n1"]);
}
