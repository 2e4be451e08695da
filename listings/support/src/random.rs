//! A seeded random source: the same numbers on every run, so that every run
//! of a listing, and of its Python twin, sleeps the same sleeps.
//!
//! ```
//! use support::random::{SEED, Xorshift64, sleeps_ms};
//!
//! let sleeps = sleeps_ms(SEED, 10_000, 2000, 4000);
//! assert!(sleeps.iter().all(|ms| (2000..=4000).contains(ms)));
//! assert_eq!(sleeps, sleeps_ms(SEED, 10_000, 2000, 4000)); // the same on every run
//! let mut random = Xorshift64::new(SEED);
//! assert_ne!(random.next_u64(), random.next_u64());
//! ```

/// The workbook's usual seed (the 64-bit golden ratio): ch06's sleeps and
/// their twin, `ch06/python/asyncio_sleepers.py`, start from it.
pub const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// Marsaglia's xorshift64 (2003): three shifts and xors per number. Not for
/// cryptography; for the same pseudo-random sequence everywhere, in a few
/// nanoseconds, with no dependency.
pub struct Xorshift64(u64);

impl Xorshift64 {
    /// A generator starting from `seed`, which must not be zero (zero stays zero).
    pub fn new(seed: u64) -> Xorshift64 {
        assert_ne!(seed, 0, "xorshift64 needs a nonzero seed");
        Xorshift64(seed)
    }

    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// `count` sleeps in milliseconds from `min_ms` to `max_ms` (both included),
/// drawn from `seed`: the twins compute the same list in Python.
pub fn sleeps_ms(seed: u64, count: u64, min_ms: u64, max_ms: u64) -> Vec<u64> {
    let mut random = Xorshift64::new(seed);
    let span = max_ms.max(min_ms) - min_ms + 1;
    (0..count).map(|_| min_ms + random.next_u64() % span).collect()
}
