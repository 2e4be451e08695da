//! The tour of chapter 4: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch04

fn main() {
    support::report::heading("Chapter 4: coming next");
}
