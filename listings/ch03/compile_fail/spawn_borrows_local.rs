//! A spawned thread may not borrow a local variable: it could outlive it. The compiler refuses.
//!
//!     rustc --edition 2024 listings/ch03/compile_fail/spawn_borrows_local.rs

use std::thread;

fn main() {
    let mut fills: Vec<f64> = Vec::new();
    // ANCHOR: borrow
    // A thread records order fills into a vector that belongs to `main`.
    // `thread::spawn` requires a closure that owns everything it uses
    // ('static): nothing forces `main` to wait for this thread, so `fills`
    // could be freed while the thread still writes to it.
    let recorder = thread::spawn(|| {
        for price in [101.5, 102.25, 99.75] {
            fills.push(price);
        }
    });
    // ANCHOR_END: borrow
    recorder.join().unwrap(); // Joining here is not enough: spawn cannot know it will happen.
}
