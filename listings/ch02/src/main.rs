//! The tour of chapter 2: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch02

fn main() {
    support::report::heading("Chapter 2: coming next");
}
