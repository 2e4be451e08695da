//! Chapter 4's worker process for one job, which `cpu_in_processes` and
//! `io_in_processes` share. The book shows its source by file and anchor,
//! and both listings are measured again when it changes.

pub mod worker;
