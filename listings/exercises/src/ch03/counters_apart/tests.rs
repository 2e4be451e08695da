use crate::ch03::counters_apart::{Padded, count_apart, count_padded};

/// Made-up trades, the same on every run: symbol numbers 0 to 7.
fn trades(n: usize) -> Vec<u8> {
    (0..n as u64).map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61) as u8).collect()
}

/// The count on one thread, with no cleverness: what every way must match.
fn expected(trades: &[u8]) -> [u64; 8] {
    let mut table = [0u64; 8];
    trades.iter().for_each(|&s| table[s as usize] += 1);
    table
}

#[test]
fn counting_apart_is_exact_for_any_number_of_threads() {
    let trades = trades(100_003);
    for threads in [1, 2, 3, 4, 7, 8, 16] {
        assert_eq!(count_apart(&trades, threads), expected(&trades), "{threads} threads");
    }
}

#[test]
fn counting_apart_copes_with_more_threads_than_trades_and_with_none() {
    assert_eq!(count_apart(&trades(5), 8), expected(&trades(5)));
    assert_eq!(count_apart(&[], 4), [0; 8]);
}

#[test]
fn a_padded_counter_fills_a_pair_of_cache_lines_on_its_own() {
    assert_eq!(std::mem::align_of::<Padded>(), 128);
    assert_eq!(std::mem::size_of::<[Padded; 8]>(), 8 * 128);
}

#[test]
fn padded_atomics_count_exactly_too() {
    let trades = trades(50_001);
    for threads in [1, 2, 5] {
        assert_eq!(count_padded(&trades, threads), expected(&trades), "{threads} threads");
    }
}
