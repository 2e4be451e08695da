//! A reference count that is not atomic cannot cross threads: `Rc` is not `Send`.
//!
//!     rustc --edition 2024 listings/ch02/compile_fail/rc_across_threads.rs

use std::rc::Rc;
use std::thread;

fn main() {
    // ANCHOR: rc
    // `Rc` counts its owners with a plain integer, as CPython counts
    // references. Two threads cloning and dropping it at once could corrupt
    // the count; CPython's answer is the GIL, Rust's is to refuse to compile.
    // ANCHOR: rc_code
    let quotes = Rc::new(vec![101.5, 102.25, 99.75]);
    let for_the_thread = Rc::clone(&quotes);
    let worker = thread::spawn(move || for_the_thread.iter().sum::<f64>());
    // ANCHOR_END: rc_code
    // ANCHOR_END: rc
    println!("{} quotes, sum {}", quotes.len(), worker.join().unwrap());
}
