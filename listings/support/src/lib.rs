//! What the workbook's listings share, so that each listing stays short and
//! keeps its lesson in plain sight.
//!
//! - [`report`]: headings, tables, named metrics and the verdict a listing
//!   ends with; the protocol through which `cargo xtask measure` records them.
//! - [`cli`]: flag parsing with the workbook's rule for bad input (one line,
//!   exit code 2).
//! - [`timing`]: wall and CPU clocks, context-switch counts, medians.
//! - [`latency`]: a loopback server that simulates a slow remote API.
//! - [`redis_server`]: a real `redis-server` of the listing's own, on a Unix
//!   socket, stopped on every exit path.
#![warn(missing_docs)]

pub mod child;
pub mod cli;
pub mod latency;
pub mod panic;
pub mod random;
pub mod redis_server;
pub mod report;
pub mod timing;
pub mod tour;
