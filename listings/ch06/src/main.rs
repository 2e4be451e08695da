//! The tour of chapter 6: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch06

fn main() {
    support::report::heading("Chapter 6: coming next");
}
