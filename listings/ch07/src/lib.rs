//! Chapter 7's shared code: the request handlers of the listings that watch
//! them (`watchdog`, `task_metrics`), and the heartbeat of the listings that
//! measure a stalled loop (`blocking_on_loop`, `same_core_stall`,
//! `cpu_pools`). The book shows their source by file and anchor; their `//!`
//! lines are prose, not doc tests.

pub mod handlers;
pub mod heartbeat;
