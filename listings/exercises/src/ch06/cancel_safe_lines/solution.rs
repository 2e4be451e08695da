//! A quote reader whose select! loop loses data: make it cancel-safe.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// What the reader saw: the quotes, each without its `\n`, and the ticks.
#[derive(Debug, Default, PartialEq)]
pub struct Seen {
    /// Every line of the feed, in order.
    pub quotes: Vec<String>,
    /// How many times the ticker fired while the feed was read.
    pub ticks: u64,
}

/// Reads `socket` line by line until end of file, and counts the ticks of a
/// ticker (every `tick_every`) in the same `select!` loop.
///
/// The partial line lives in `pending`, outside the `select!`, and
/// `read_until` is documented as cancel-safe: dropped when the tick wins, it
/// has already appended what it read to `pending`, and the next call goes on
/// from there. (`read_line` is documented as not cancel-safe.)
pub async fn read_quotes(mut socket: impl AsyncBufRead + Unpin, tick_every: Duration) -> Seen {
    let mut ticker = tokio::time::interval(tick_every);
    let mut seen = Seen::default();
    let mut pending = Vec::new();
    loop {
        tokio::select! {
            read = socket.read_until(b'\n', &mut pending) => match read {
                Ok(0) | Err(_) => return seen,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&pending);
                    seen.quotes.push(line.trim_end_matches('\n').to_string());
                    pending.clear();
                }
            },
            _ = ticker.tick() => seen.ticks += 1,
        }
    }
}
