//! Candle builder: a coroutine that receives values, as a state machine.

/// One trade: the minute it happened in, and its price in cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    /// Minutes since the market opened.
    pub minute: u32,
    /// The trade's price, in cents.
    pub price: u32,
}

/// One minute of trading: first, highest, lowest and last price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candle {
    /// The minute this candle covers.
    pub minute: u32,
    /// The first price of the minute.
    pub open: u32,
    /// The highest price of the minute.
    pub high: u32,
    /// The lowest price of the minute.
    pub low: u32,
    /// The last price of the minute.
    pub close: u32,
}

/// Builds one-minute candles from ticks pushed into it one at a time, the way
/// Python code would `send()` values into a generator.
#[derive(Debug, Default)]
pub enum CandleBuilder {
    /// No tick yet.
    #[default]
    Empty,
    /// The candle of the current minute, still open.
    Building(Candle),
}

impl CandleBuilder {
    /// Takes one tick in. Returns the previous minute's candle when this tick
    /// starts a new minute, `None` otherwise. A tick from a minute earlier
    /// than the current one arrived late: it is ignored.
    ///
    /// Hint: `match self` with one arm per state (and guards comparing
    /// minutes); assign `*self` to move to another state.
    #[allow(unused_variables)]
    pub fn resume(&mut self, tick: Tick) -> Option<Candle> {
        todo!("start, extend or close the current candle")
    }

    /// The market closed: returns the candle still open, if any, and starts over empty.
    pub fn finish(&mut self) -> Option<Candle> {
        todo!("hand out the open candle and go back to Empty (std::mem::take helps)")
    }
}
