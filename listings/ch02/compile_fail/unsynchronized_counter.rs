//! Threads may not mutate a shared counter without synchronization: the compiler refuses.
//!
//!     rustc --edition 2024 listings/ch02/compile_fail/unsynchronized_counter.rs

use std::thread;

fn main() {
    let mut page_views: u64 = 0;
    // ANCHOR: race
    // Four threads each count 1000 page views into one plain integer. In
    // Python this runs: `+=` reads, adds and writes, and another thread may
    // run in between and lose an update. Rust does not compile it.
    // ANCHOR: race_code
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..1000 {
                    page_views += 1;
                }
            });
        }
    });
    // ANCHOR_END: race_code
    // ANCHOR_END: race
    println!("{page_views} page views");
}
