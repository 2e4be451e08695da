//! Counters apart: count trades per symbol from several threads, first with
//! nothing shared while counting, then with atomics that share no cache line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

/// Counts the trades of each of eight symbols (`trades` holds symbol
/// numbers, 0 to 7) with `threads` scoped threads. Each thread takes its own
/// contiguous part of `trades` and counts into a table of its own; the
/// tables are added up once every thread is done. No atomic, no lock.
pub fn count_apart(trades: &[u8], threads: usize) -> [u64; 8] {
    let part = trades.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|scope| {
        let workers: Vec<_> = trades
            .chunks(part)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut table = [0u64; 8];
                    chunk.iter().for_each(|&symbol| table[symbol as usize] += 1);
                    table
                })
            })
            .collect();
        let mut total = [0u64; 8];
        for table in workers.into_iter().map(|w| w.join().expect("a counting thread")) {
            total.iter_mut().zip(table).for_each(|(sum, n)| *sum += n);
        }
        total
    })
}

/// One counter alone on its cache line (and the next one: x86-64 CPUs fetch
/// lines in pairs), so that a write to it takes no other counter's line.
#[repr(align(128))]
#[derive(Default)]
pub struct Padded(pub AtomicU64);

/// The same count with eight shared `Padded` counters, one per symbol, that
/// every thread adds to with `fetch_add` (`Relaxed` is enough: see the page).
pub fn count_padded(trades: &[u8], threads: usize) -> [u64; 8] {
    let counters: [Padded; 8] = Default::default();
    let part = trades.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|scope| {
        for chunk in trades.chunks(part) {
            let counters = &counters;
            scope.spawn(move || {
                for &symbol in chunk {
                    counters[symbol as usize].0.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    counters.map(|counter| counter.0.into_inner())
}
