//! A Python extension module in Rust: the same CPU-bound work, once holding the GIL and once
//! releasing it, for Python threads to call (`ch02/python/gil_rust_ext.py`).
//!
//! The work is chapter 2's unit (`ch02::work::run_bytecodes`): 1000 rounds of a 64-bit xorshift
//! generator seeded with the unit's number. A call runs the units `start..stop` and returns the
//! sum of their results (wrapping, mod 2^64), so every split of a job over threads gives the
//! same checksum: the threads' answers add up to the whole job's.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use pyo3::prelude::*;

// ANCHOR: work
/// One unit of work: 1000 rounds of xorshift, each depending on the one before.
fn run_unit(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}
// ANCHOR_END: work

/// Threads inside `run_units` now, and the most there have been at once:
/// what shows whether the GIL let the calls overlap.
static INSIDE: AtomicUsize = AtomicUsize::new(0);
static MOST_INSIDE: AtomicUsize = AtomicUsize::new(0);

/// The units `start..stop`, summed into one checksum the compiler cannot skip.
fn run_units(start: u64, stop: u64) -> u64 {
    MOST_INSIDE.fetch_max(INSIDE.fetch_add(1, Relaxed) + 1, Relaxed);
    let sum = (start..stop).fold(0, |sum: u64, unit| sum.wrapping_add(run_unit(unit)));
    INSIDE.fetch_sub(1, Relaxed);
    sum
}

// ANCHOR: functions
/// Runs the units `start..stop` and keeps the GIL the whole time, as an
/// extension does unless it says otherwise: no other Python thread runs meanwhile.
#[pyfunction]
fn spin_holding_gil(start: u64, stop: u64) -> u64 {
    run_units(start, stop)
}

/// Runs the same units with the GIL released (in C, `Py_BEGIN_ALLOW_THREADS`,
/// as NumPy does around long operations): other Python threads run
/// meanwhile, and may be inside this function too.
#[pyfunction]
fn spin_releasing_gil(py: Python<'_>, start: u64, stop: u64) -> u64 {
    // The closure may touch no Python object: it runs without the GIL.
    py.detach(|| run_units(start, stop))
}
// ANCHOR_END: functions

/// The most threads that were inside the work at once since the last call;
/// the call starts the count again.
#[pyfunction]
fn most_inside_at_once() -> usize {
    MOST_INSIDE.swap(0, Relaxed)
}

// ANCHOR: module
/// The module `import gil_ext` loads: CPython calls its `PyInit_gil_ext`.
#[pymodule]
mod gil_ext {
    #[pymodule_export]
    use super::{most_inside_at_once, spin_holding_gil, spin_releasing_gil};
}
// ANCHOR_END: module
