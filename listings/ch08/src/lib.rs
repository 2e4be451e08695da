//! Chapter 8's shared code: the ticker API's client, which the I/O listings
//! (`io_every_model`, `io_at_scale`, `green_both_jobs`) send their requests
//! with; and, for `io_every_model` and `io_at_scale`, the threads they start
//! and the pipe by which they hear from the processes they start. The book
//! shows their source by file and anchor; their `//!` lines are prose, not
//! doc tests.

pub mod threads;
pub mod ticker;
pub mod worker;
