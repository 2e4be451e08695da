//! A select! branch that is not cancel-safe loses the message it was halfway through; kept outside, 0.
//!
//!     cargo run --release -p ch06 --bin cancel_safe_select -- --quotes 100 --split-every 4

use std::process::ExitCode;
use std::time::Duration;

use support::report::{Table, figure, unchecked, verdict};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;

/// Read a feed of quotes while status requests come in, two ways.
#[derive(clap::Parser)]
pub struct Args {
    /// Quotes the feed sends, one line each.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    quotes: u64,
    /// Every Nth quote arrives in two halves with a status request between them (0: none).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    split_every: u64,
}

// ANCHOR: feed
/// The other end of the socket: one quote per line. Every `split_every`th quote
/// arrives in two halves, and a status request comes in between them. A real
/// feed hits that timing now and then; this one hits it on every split quote.
async fn feed(mut socket: DuplexStream, status: mpsc::Sender<()>, quotes: u64, split_every: u64) {
    for n in 1..=quotes {
        let quote = format!("{n} ACME {}.25\n", 100 + n % 7);
        if split_every > 0 && n % split_every == 0 {
            let (head, tail) = quote.split_at(quote.len() / 2);
            socket.write_all(head.as_bytes()).await.expect("write");
            status.send(()).await.expect("the reader is there");
            tokio::time::sleep(Duration::from_millis(1)).await; // the next segment
            socket.write_all(tail.as_bytes()).await.expect("write");
        } else {
            socket.write_all(quote.as_bytes()).await.expect("write");
        }
    }
} // Dropping the socket ends the feed: the reader sees end of file.
// ANCHOR_END: feed

/// The reader's end of the socket, buffered.
type Socket = BufReader<DuplexStream>;

// ANCHOR: losing
/// Not cancel-safe: `read_line` is documented as not cancel-safe, and the line
/// is a local of this future. Dropped halfway, the bytes it took go with it.
async fn next_quote(socket: &mut Socket) -> std::io::Result<String> {
    let mut line = String::new();
    socket.read_line(&mut line).await?;
    Ok(line)
}

async fn read_losing(mut socket: Socket, mut status: mpsc::Receiver<()>) -> Tally {
    let mut tally = Tally::default();
    loop {
        tokio::select! {
            biased; // Poll the branches in this order, so every run is the same.
            line = next_quote(&mut socket) => match line.expect("read") {
                line if line.is_empty() => return tally,
                line => tally.record(line.as_bytes()),
            },
            Some(()) = status.recv() => tally.status_requests += 1,
        }
    }
}
// ANCHOR_END: losing

// ANCHOR: keeping
/// Cancel-safe: the partial line lives outside the select!, and `read_until`
/// is documented to append what it read to it before being dropped.
async fn read_keeping(mut socket: Socket, mut status: mpsc::Receiver<()>) -> Tally {
    let (mut tally, mut pending) = (Tally::default(), Vec::new());
    loop {
        tokio::select! {
            biased;
            read = socket.read_until(b'\n', &mut pending) => match read.expect("read") {
                0 => return tally,
                _ => tally.record(&std::mem::take(&mut pending)),
            },
            Some(()) = status.recv() => tally.status_requests += 1,
        }
    }
}
// ANCHOR_END: keeping

/// What a reader got: whole quotes (`N ACME PRICE`), status requests.
#[derive(Default)]
struct Tally {
    intact: u64,
    status_requests: u64,
}

impl Tally {
    fn record(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let mut fields = text.split_whitespace();
        let n = fields.next().is_some_and(|n| n.parse::<u64>().is_ok());
        self.intact += u64::from(n && fields.next() == Some("ACME"));
    }
}

pub fn run(args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
    // ANCHOR: readers
    let tallies = runtime.expect("build the runtime").block_on(async {
        let mut tallies = Vec::new();
        for keep in [false, true] {
            // A socket pair in memory: the feed writes into one end, the reader reads the other.
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            let (status_tx, status_rx) = mpsc::channel(16);
            let sender = tokio::spawn(feed(theirs, status_tx, args.quotes, args.split_every));
            let socket = BufReader::new(ours);
            tallies.push(match keep {
                false => read_losing(socket, status_rx).await,
                true => read_keeping(socket, status_rx).await,
            });
            sender.await.expect("the feed finished");
        }
        tallies
    });
    // ANCHOR_END: readers
    let (sent, split) = (args.quotes, args.quotes.checked_div(args.split_every).unwrap_or(0));
    let lost = [("unsafe", &tallies[0]), ("safe", &tallies[1])]
        .map(|(name, tally)| figure(&format!("lost_{name}"), (sent - tally.intact) as f64, ""));
    let mut table = Table::new(["reader", "sent", "intact", "lost", "status requests"]);
    let readers = ["read_line in the branch", "read_until, buffer outside"];
    for ((reader, tally), lost) in readers.iter().zip(&tallies).zip(lost) {
        let (intact, requests) = (tally.intact, tally.status_requests);
        table.cells(&format!("{reader}|{sent}|{intact}|{lost}|{requests}"));
    }
    table.print();
    let claim = "a branch that is not cancel-safe loses each quote it was halfway through";
    if split == 0 {
        return unchecked(claim, "no quote arrived in halves, so no branch was dropped halfway");
    }
    let holds = lost[0].value == split as f64
        && lost[1].value == 0.0
        && tallies.iter().all(|tally| tally.status_requests == split);
    let evidence =
        format!("{split} quotes split: {} lost by read_line, {} by read_until", lost[0], lost[1]);
    verdict(claim, holds, &evidence)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
