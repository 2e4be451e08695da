//! Chapter 2: the GIL, and its analogue in Rust.
//!
//! [`interpreter_lock`] is a global interpreter lock built in plain sight,
//! shared by the chapter's listings; [`work`] is the CPU-bound work they
//! run under it. The lock's file is also a listing of its own
//! (`src/bin/interpreter_lock.rs` is a link to it), so the book shows the
//! very code the measurements ran.

// The lock's file is compiled twice, as this module and as a program, and
// names the work as `ch02::work` in both.
extern crate self as ch02;

pub mod interpreter_lock;
pub mod work;

#[cfg(test)]
#[path = "interpreter_lock_tests.rs"]
mod interpreter_lock_tests;
