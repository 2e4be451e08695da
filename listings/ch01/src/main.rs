//! The tour of chapter 1: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch01

fn main() {
    support::report::heading("Chapter 1: blocking vs non-blocking I/O");
}
