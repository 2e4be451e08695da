//! Three request handlers for one current-thread runtime: one well behaved,
//! two that block the thread between their `.await`s. Each blocking call
//! sits in a `tracing` span, which costs next to nothing until a subscriber
//! listens.

use std::time::Duration;

// ANCHOR: handlers
/// Answers from a cache, awaiting the (simulated) network in between: well behaved.
pub async fn quote_from_cache(requests: u64) {
    for _ in 0..requests {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits for a rate limiter with `std::thread::sleep` (2 ms) instead of tokio's.
pub async fn rate_limited_quote(requests: u64) {
    for _ in 0..requests {
        tracing::info_span!("rate_limiter")
            .in_scope(|| std::thread::sleep(Duration::from_millis(2)));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Reads a 4 MiB price history with `std::fs::read` every fifth request.
pub async fn history_report(requests: u64, path: std::path::PathBuf) {
    for request in 0..requests {
        if request % 5 == 0 {
            let read = || std::hint::black_box(std::fs::read(&path).expect("read the history"));
            tracing::info_span!("read_history").in_scope(read);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
// ANCHOR_END: handlers

/// The handlers' names, in the order the listings run them.
pub const NAMES: [&str; 3] = ["quote_from_cache", "rate_limited_quote", "history_report"];

/// A 4 MiB price history in a temporary folder, for `history_report`.
pub fn history_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("history.bin");
    std::fs::write(&path, vec![1u8; 4 << 20]).expect("write the history");
    (dir, path)
}
