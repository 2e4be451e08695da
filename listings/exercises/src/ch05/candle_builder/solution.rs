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
    pub fn resume(&mut self, tick: Tick) -> Option<Candle> {
        let fresh = Candle {
            minute: tick.minute,
            open: tick.price,
            high: tick.price,
            low: tick.price,
            close: tick.price,
        };
        match self {
            CandleBuilder::Empty => {
                *self = CandleBuilder::Building(fresh);
                None
            }
            CandleBuilder::Building(candle) if tick.minute < candle.minute => None,
            CandleBuilder::Building(candle) if tick.minute == candle.minute => {
                candle.high = candle.high.max(tick.price);
                candle.low = candle.low.min(tick.price);
                candle.close = tick.price;
                None
            }
            CandleBuilder::Building(candle) => {
                let done = *candle;
                *candle = fresh;
                Some(done)
            }
        }
    }

    /// The market closed: returns the candle still open, if any, and starts over empty.
    pub fn finish(&mut self) -> Option<Candle> {
        match std::mem::take(self) {
            CandleBuilder::Empty => None,
            CandleBuilder::Building(candle) => Some(candle),
        }
    }
}
