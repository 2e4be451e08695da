//! Chapter 6's own event loop, for its listings and unit tests. The book
//! shows its source by file and anchor, and every listing of the chapter is
//! measured again when it changes.

pub mod mini_loop;

#[cfg(test)]
mod mini_loop_tests;
