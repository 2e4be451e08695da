//! The tour of chapter 3: every listing, in book order, at classroom sizes.
//!
//!     cargo run -p ch03

fn main() {
    support::report::heading("Chapter 3: coming next");
}
