//! Chapter 7's request handlers, shared by the listings that watch them
//! (`watchdog`, `task_metrics`). The book shows their source by file and
//! anchor; its `//!` lines are prose, not doc tests.

pub mod handlers;
