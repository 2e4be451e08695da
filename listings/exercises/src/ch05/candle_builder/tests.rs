use crate::ch05::candle_builder::{Candle, CandleBuilder, Tick};

/// Feeds `(minute, price)` ticks to a fresh builder, then finishes it, and
/// checks every candle that came out, in order.
fn check(ticks: &[(u32, u32)], expected: &[(u32, u32, u32, u32, u32)]) {
    let mut builder = CandleBuilder::default();
    let mut candles: Vec<Candle> = ticks
        .iter()
        .filter_map(|&(minute, price)| builder.resume(Tick { minute, price }))
        .collect();
    candles.extend(builder.finish());
    let expected: Vec<Candle> = expected
        .iter()
        .map(|&(minute, open, high, low, close)| Candle { minute, open, high, low, close })
        .collect();
    assert_eq!(candles, expected);
}

#[test]
fn one_minute_makes_one_candle_at_the_close() {
    check(
        &[(0, 10_000), (0, 10_050), (0, 9_980), (0, 10_010)],
        &[(0, 10_000, 10_050, 9_980, 10_010)],
    );
}

#[test]
fn a_new_minute_hands_out_the_previous_candle() {
    let mut builder = CandleBuilder::default();
    assert_eq!(builder.resume(Tick { minute: 0, price: 100 }), None);
    assert_eq!(builder.resume(Tick { minute: 0, price: 105 }), None);
    let first = Candle { minute: 0, open: 100, high: 105, low: 100, close: 105 };
    assert_eq!(builder.resume(Tick { minute: 1, price: 99 }), Some(first));
    let second = Candle { minute: 1, open: 99, high: 99, low: 99, close: 99 };
    assert_eq!(builder.finish(), Some(second));
    assert_eq!(builder.finish(), None, "finish starts over empty");
}

#[test]
fn quiet_minutes_make_no_candle_and_late_ticks_are_ignored() {
    check(
        &[(0, 100), (3, 110), (2, 500), (3, 90), (7, 120)],
        &[(0, 100, 100, 100, 100), (3, 110, 110, 90, 90), (7, 120, 120, 120, 120)],
    );
}

#[test]
fn no_ticks_no_candles() {
    check(&[], &[]);
}
