//! A `Stream` is an async generator: the ticker's prices, one page fetched only when needed.
//!
//!     cargo run --release -p ch05 --bin ticker_stream -- --pages 3 --take 4

use std::cell::Cell;
use std::pin::pin;
use std::time::Duration;

use futures::stream::{self, Stream, StreamExt};
use support::report::{Table, figure, verdict};

/// Read the paged ticker API as a Stream, under `#[tokio::main]` and under a runtime built by hand.
#[derive(clap::Parser)]
pub struct Args {
    /// How many pages the ticker API has.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pages: u64,
    /// How many prices the caller takes before it pauses to do something else.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1000))]
    take: u64,
    /// How long the API takes to answer one page, in milliseconds.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=1000))]
    latency_ms: u64,
}

/// How many prices one page of the ticker API holds.
const PAGE_SIZE: usize = 3;

/// The price at position `i` of page `page`, in cents: the same prices as `ticker_generator`.
fn price(page: usize, i: usize) -> u32 {
    10_000 + ((page * PAGE_SIZE + i) * 7_919 % 400) as u32
}

// ANCHOR: stream
/// One page of the API, or `None` past the last page; the sleep stands for the network.
async fn fetch_page(page: usize, args: &Args) -> Option<Vec<u32>> {
    tokio::time::sleep(Duration::from_millis(args.latency_ms)).await;
    (page < args.pages as usize).then(|| (0..PAGE_SIZE).map(|i| price(page, i)).collect())
}

/// The ticker as a `Stream`, the async cousin of `Iterator`. `unfold` keeps
/// the next page number as its state and fetches a page only when the
/// consumer asks for a price past the last one; `flatten` hands them out one by one.
/// `fuse` lets the consumer ask again after the end, and get `None` again.
fn ticker<'a>(args: &'a Args, fetched: &'a Cell<usize>) -> impl Stream<Item = u32> + 'a {
    stream::unfold(0, move |page| async move {
        let prices = fetch_page(page, args).await?; // None ends the stream
        fetched.set(fetched.get() + 1);
        Some((stream::iter(prices), page + 1))
    })
    .flatten()
    .fuse()
}
// ANCHOR_END: stream

// ANCHOR: async_for
/// Python's `async for price in ticker():` is `while let ... .next().await`.
/// Returns the prices and how many pages were fetched when the caller paused.
async fn read_ticker(args: &Args) -> (Vec<u32>, usize) {
    let fetched = Cell::new(0);
    // The stream holds a future that may borrow itself: `next` wants it pinned.
    let mut prices = pin!(ticker(args, &fetched));
    let mut seen = Vec::new();
    while let Some(price) = prices.next().await {
        seen.push(price);
        if seen.len() == args.take as usize {
            break; // Pause: the stream waits, suspended, in its state.
        }
    }
    let fetched_at_pause = fetched.get();
    while let Some(price) = prices.next().await {
        seen.push(price); // Resume it to the end.
    }
    (seen, fetched_at_pause)
}
// ANCHOR_END: async_for

// ANCHOR: main
/// `#[tokio::main]` works on any function, not only `main`: it turns this
/// `async fn` into a plain one that builds a runtime and blocks on the body,
/// as Python's `asyncio.run(read_ticker())` does.
#[tokio::main(flavor = "current_thread")]
async fn with_macro(args: &Args) -> (Vec<u32>, usize) {
    read_ticker(args).await
}

/// What the macro writes, by hand: tokio's documentation shows this expansion.
fn by_hand(args: &Args) -> (Vec<u32>, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    runtime.expect("a current-thread runtime").block_on(async { read_ticker(args).await })
}
// ANCHOR_END: main

pub fn run(args: Args) -> std::process::ExitCode {
    let every = (0..args.pages as usize).flat_map(|p| (0..PAGE_SIZE).map(move |i| price(p, i)));
    let expected: Vec<u32> = every.collect();
    let lazy = (args.take as usize).min(expected.len()).div_ceil(PAGE_SIZE);
    let runs = [with_macro(&args), by_hand(&args)];
    let prices = figure("prices", runs[0].0.len() as f64, "prices");
    let at_pause = figure("pages_fetched_at_pause", runs[0].1 as f64, "pages");
    let mut table = Table::new(["runtime", "prices", "pages fetched at the pause", "all in order"]);
    for (how, (seen, at)) in ["#[tokio::main]", "Builder + block_on"].into_iter().zip(&runs) {
        let in_order = if *seen == expected { "yes" } else { "no" };
        table.cells(&format!("{how}|{}|{at} of {}|{in_order}", seen.len(), args.pages));
    }
    table.print();
    let bytes = size_of_val(&ticker(&args, &Cell::new(0)));
    println!("suspended, the stream is {}", figure("stream_bytes", bytes as f64, "bytes"));
    verdict(
        "the stream yields the generator's prices, fetching pages as needed; the macro is block_on",
        runs.iter().all(|(seen, at)| *seen == expected && *at == lazy),
        &format!("{prices} both ways; pages fetched at the pause: {at_pause:#} of {}", args.pages),
    )
}

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
