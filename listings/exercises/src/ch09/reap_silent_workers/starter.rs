//! Reap by heartbeat: across machines nobody can wait for a worker's death,
//! but a key that a live worker keeps refreshing, and that expires when it
//! stops, tells the reaper the same thing.

use redis::Connection;

/// The worker's side: sets `heartbeat:{worker}` to expire in `ttl_ms`. A
/// live worker calls it more often than that.
#[allow(unused_variables)]
pub fn beat(redis: &mut Connection, worker: &str, ttl_ms: u64) {
    todo!("one command sets a key with a time to live in milliseconds")
}

/// The reaper's side: for every processing list `processing:{worker}`
/// whose `heartbeat:{worker}` key is gone, moves each job it holds back to
/// the right end of `jobs` (the end workers take from, so they go first).
/// Returns the names of the workers it reaped, sorted.
#[allow(unused_variables)]
pub fn reap_silent_workers(redis: &mut Connection) -> Vec<String> {
    todo!("find the processing lists, check each worker's heartbeat, move the jobs back")
}
