//! Chapter 6's own event loop, and what its sleeping and request listings
//! share, for its listings and unit tests. The book shows their source by file and anchor,
//! and every listing of the chapter is measured again when they change.

pub mod mini_loop;
pub mod requests;
pub mod sleepers;

#[cfg(test)]
mod mini_loop_tests;
