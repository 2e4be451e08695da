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
/// This version loses data: a tick that fires while a line is half-read
/// drops `next_line`'s future, and the half it had read with it. Fix it so
/// that no byte is lost, whatever the timing (hint: which of tokio's reading
/// methods are documented as cancel-safe, and where can a partial line live?).
pub async fn read_quotes(mut socket: impl AsyncBufRead + Unpin, tick_every: Duration) -> Seen {
    let mut ticker = tokio::time::interval(tick_every);
    let mut seen = Seen::default();
    loop {
        tokio::select! {
            line = next_line(&mut socket) => match line {
                Some(line) => seen.quotes.push(line),
                None => return seen,
            },
            _ = ticker.tick() => seen.ticks += 1,
        }
    }
}

/// The next line without its `\n`, or `None` at end of file.
async fn next_line(socket: &mut (impl AsyncBufRead + Unpin)) -> Option<String> {
    let mut line = String::new();
    match socket.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches('\n').to_string()),
    }
}
