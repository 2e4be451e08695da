use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};

use crate::ch06::cancel_safe_lines::read_quotes;

/// Sends `parts` down an in-memory socket, each followed by a pause of its
/// milliseconds, while `read_quotes` reads with a tick every 100 ms; checks
/// the quotes it saw and that at least `min_ticks` ticks came in between.
/// Time is paused: tokio's clock jumps to the next timer whenever every task
/// waits, so seconds of pauses take milliseconds, and every run is the same.
async fn check(parts: &[(&str, u64)], quotes: &[&str], min_ticks: u64) {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    let parts: Vec<(String, u64)> = parts.iter().map(|&(p, ms)| (p.to_string(), ms)).collect();
    let feed = tokio::spawn(async move {
        for (part, pause_ms) in parts {
            theirs.write_all(part.as_bytes()).await.expect("write");
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
    });
    let seen = read_quotes(BufReader::new(ours), Duration::from_millis(100)).await;
    feed.await.expect("the feed ends");
    assert_eq!(seen.quotes, quotes);
    assert!(seen.ticks >= min_ticks, "{} ticks, expected at least {min_ticks}", seen.ticks);
}

#[tokio::test(start_paused = true)]
async fn a_tick_in_the_middle_of_a_line_loses_nothing() {
    let parts = [("1 ACME 10", 250), ("1.25\n2 INIT", 250), (" 7.50\n", 0)];
    check(&parts, &["1 ACME 101.25", "2 INIT 7.50"], 4).await;
}

#[tokio::test(start_paused = true)]
async fn a_line_in_many_pieces_with_many_ticks_between() {
    let parts = [("3 GLO", 1_000), ("BEX ", 1_000), ("42.", 1_000), ("00\n", 0)];
    check(&parts, &["3 GLOBEX 42.00"], 30).await;
}
