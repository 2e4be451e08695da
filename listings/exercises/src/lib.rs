//! The workbook's exercises. Each one is a folder under `src/chNN/` with a
//! `starter.rs` and a `solution.rs` of the same signatures and one `tests.rs`
//! that both must face:
//!
//!     cargo test -p exercises                      # the solutions: all pass
//!     cargo test -p exercises --features starters  # the starters: all fail
