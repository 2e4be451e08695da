//! Reap by heartbeat: across machines nobody can wait for a worker's death,
//! but a key that a live worker keeps refreshing, and that expires when it
//! stops, tells the reaper the same thing.

use redis::{Commands, Connection, Direction};

/// The worker's side: sets `heartbeat:{worker}` to expire in `ttl_ms`. A
/// live worker calls it more often than that.
pub fn beat(redis: &mut Connection, worker: &str, ttl_ms: u64) {
    let _: () = redis.pset_ex(format!("heartbeat:{worker}"), 1, ttl_ms).expect("PSETEX");
}

/// The reaper's side: for every processing list `processing:{worker}`
/// whose `heartbeat:{worker}` key is gone, moves each job it holds back to
/// the right end of `jobs` (the end workers take from, so they go first).
/// Returns the names of the workers it reaped, sorted.
pub fn reap_silent_workers(redis: &mut Connection) -> Vec<String> {
    let lists: Vec<String> = redis.keys("processing:*").expect("KEYS");
    let mut reaped = Vec::new();
    for list in lists {
        let worker = list.trim_start_matches("processing:").to_string();
        if redis.exists(format!("heartbeat:{worker}")).expect("EXISTS") {
            continue;
        }
        while redis
            .lmove::<_, _, Option<String>>(&list, "jobs", Direction::Right, Direction::Right)
            .expect("LMOVE")
            .is_some()
        {}
        reaped.push(worker);
    }
    reaped.sort();
    reaped
}
