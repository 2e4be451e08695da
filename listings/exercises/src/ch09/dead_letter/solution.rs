//! A dead-letter list: a job that fails again and again (a "poison" job)
//! must not go round the queue for ever, nor be dropped without a trace.

use redis::{Commands, Connection};

/// Where a failed job went.
#[derive(Debug, PartialEq)]
pub enum Fate {
    /// Back in `jobs`, behind the others, after this many failures.
    Retried(u64),
    /// In the list `dead`, for a person to look at, after `max_attempts`.
    Buried,
}

/// Worker `worker` failed `job`, which sits in its list `processing:{worker}`.
/// Counts the failure in the hash `attempts` (field: the job itself); below
/// `max_attempts`, moves the job to the left end of `jobs` (the end the
/// producer pushes onto); at `max_attempts`, to the list `dead`. The removal
/// and the push happen together or not at all (`MULTI`/`EXEC`), so a crash
/// between them can neither lose the job nor duplicate it.
pub fn fail(redis: &mut Connection, worker: &str, job: &str, max_attempts: u64) -> Fate {
    let failures: u64 = redis.hincr("attempts", job, 1).expect("HINCRBY");
    let to = if failures < max_attempts { "jobs" } else { "dead" };
    let _: () = redis::pipe()
        .atomic()
        .lrem(format!("processing:{worker}"), 1, job)
        .ignore()
        .lpush(to, job)
        .ignore()
        .query(redis)
        .expect("MULTI/EXEC");
    if failures < max_attempts { Fate::Retried(failures) } else { Fate::Buried }
}
