//! Chapter 6's own event loop, for its listings and unit tests.
//!
//! The loop's source is the listing `src/bin/mini_loop.rs`, so the book can
//! show it; `src/mini_loop.rs` is a symbolic link to it, so that the library
//! compiles the same file and every listing that uses the loop is measured
//! again when it changes.

pub mod mini_loop;

#[cfg(test)]
mod mini_loop_tests;
