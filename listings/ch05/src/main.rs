//! The tour of chapter 5: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch05

fn main() {
    support::report::heading("Chapter 5: coming next");
}
