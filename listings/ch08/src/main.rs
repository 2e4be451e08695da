//! The tour of chapter 8: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch08

fn main() {
    support::report::heading("Chapter 8: coming next");
}
