use redis::{Commands, Connection, Direction};
use support::redis_server::RedisServer;

use crate::ch09::dead_letter::{Fate, fail};

/// A worker takes the next job the reliable way, as the chapter's workers do.
fn take(redis: &mut Connection, worker: &str) -> String {
    let processing = format!("processing:{worker}");
    let job: Option<String> =
        redis.lmove("jobs", &processing, Direction::Right, Direction::Left).unwrap();
    job.expect("a job in the queue")
}

fn list(redis: &mut Connection, key: &str) -> Vec<String> {
    redis.lrange(key, 0, -1).unwrap()
}

#[test]
fn a_poison_job_is_retried_behind_the_others_then_buried() {
    let server = RedisServer::start();
    let mut redis = server.connect();
    let _: usize = redis.lpush("jobs", &["poison", "good"]).unwrap(); // "poison" is next
    assert_eq!(take(&mut redis, "w1"), "poison");
    assert_eq!(fail(&mut redis, "w1", "poison", 3), Fate::Retried(1));
    assert_eq!(list(&mut redis, "jobs"), ["poison", "good"], "behind the others");
    assert_eq!(take(&mut redis, "w1"), "good");
    let _: usize = redis.lrem("processing:w1", 1, "good").unwrap(); // done, acknowledged
    assert_eq!(take(&mut redis, "w2"), "poison");
    assert_eq!(fail(&mut redis, "w2", "poison", 3), Fate::Retried(2));
    assert_eq!(take(&mut redis, "w1"), "poison");
    assert_eq!(fail(&mut redis, "w1", "poison", 3), Fate::Buried);
    assert_eq!(list(&mut redis, "dead"), ["poison"]);
    assert!(list(&mut redis, "jobs").is_empty(), "not in the queue any more");
    assert!(list(&mut redis, "processing:w1").is_empty(), "nor in a processing list");
    assert!(list(&mut redis, "processing:w2").is_empty());
}

#[test]
fn one_attempt_allowed_buries_at_the_first_failure() {
    let server = RedisServer::start();
    let mut redis = server.connect();
    let _: usize = redis.lpush("jobs", "fragile").unwrap();
    take(&mut redis, "w1");
    assert_eq!(fail(&mut redis, "w1", "fragile", 1), Fate::Buried);
    assert_eq!(list(&mut redis, "dead"), ["fragile"]);
    let attempts: u64 = redis.hget("attempts", "fragile").unwrap();
    assert_eq!(attempts, 1, "the failure is counted");
}
