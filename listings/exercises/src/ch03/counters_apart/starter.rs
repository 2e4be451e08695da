//! Counters apart: count trades per symbol from several threads, first with
//! nothing shared while counting, then with atomics that share no cache line.

use std::sync::atomic::AtomicU64;

/// Counts the trades of each of eight symbols (`trades` holds symbol
/// numbers, 0 to 7) with `threads` scoped threads. Each thread takes its own
/// contiguous part of `trades` and counts into a table of its own; the
/// tables are added up once every thread is done. No atomic, no lock.
#[allow(unused_variables)]
pub fn count_apart(trades: &[u8], threads: usize) -> [u64; 8] {
    todo!("split `trades` with chunks(), a thread per chunk in thread::scope, then merge")
}

/// One counter alone on its cache line (and the next one: x86-64 CPUs fetch
/// lines in pairs), so that a write to it takes no other counter's line.
/// As written, eight of them still fit in one line: fix the type.
#[derive(Default)]
pub struct Padded(pub AtomicU64);

/// The same count with eight shared `Padded` counters, one per symbol, that
/// every thread adds to with `fetch_add` (`Relaxed` is enough: see the page).
#[allow(unused_variables)]
pub fn count_padded(trades: &[u8], threads: usize) -> [u64; 8] {
    todo!("eight Padded counters, a thread per chunk, fetch_add, then read them out")
}
