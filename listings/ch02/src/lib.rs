//! Chapter 2: the GIL, and its analogue in Rust.
//!
//! [`interpreter_lock`] is a global interpreter lock built in plain sight,
//! shared by the chapter's listings; [`work`] is the CPU-bound work they
//! run under it, and [`fetch`] the blocking I/O. The book shows the lock
//! from its file, so the page shows the very code the measurements ran.

pub mod fetch;
pub mod interpreter_lock;
pub mod work;

#[cfg(test)]
#[path = "interpreter_lock_tests.rs"]
mod interpreter_lock_tests;
