//! The tour of chapter 7: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch07

fn main() {
    support::report::heading("Chapter 7: coming next");
}
