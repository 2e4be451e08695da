//! Chapter 7's shared code: the request handlers of the listings that watch
//! them (`watchdog`, `task_metrics`), the heartbeat of the listings that
//! measure a stalled loop (`blocking_on_loop`, `same_core_stall`,
//! `cpu_pools`), and the SQLite actor and pool of the listings that read and
//! write through them (`sqlite_actor`, `sqlite_writes`). The book shows their
//! source by file and anchor; their `//!` lines are prose, not doc tests.

pub mod handlers;
pub mod heartbeat;
pub mod sqlite;
