//! A dead-letter list: a job that fails again and again (a "poison" job)
//! must not go round the queue for ever, nor be dropped without a trace.

use redis::Connection;

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
#[allow(unused_variables)]
pub fn fail(redis: &mut Connection, worker: &str, job: &str, max_attempts: u64) -> Fate {
    todo!("HINCRBY the attempts, then LREM and LPUSH in one atomic pipeline")
}
