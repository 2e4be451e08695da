//! A coroutine suspends and resumes: in stable Rust, it is a state machine written by hand.
//!
//!     cargo run --release -p ch05 --bin ticker_generator -- --pages 3 --take 4

use support::report::{figure, verdict};

/// Read a paged ticker API one price at a time, then feed the prices to a running average.
#[derive(clap::Parser)]
pub struct Args {
    /// How many pages the ticker API has.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pages: u64,
    /// How many prices the caller takes before it pauses to do something else.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1000))]
    take: u64,
}

// ANCHOR: subroutine
/// How many prices one page of the ticker API holds.
const PAGE_SIZE: usize = 3;

/// The simulated paged API: page `page` of the prices, in cents, or `None` past the last page.
fn fetch_page(page: usize, args: &Args) -> Option<Vec<u32>> {
    let price = |i: usize| 10_000 + ((page * PAGE_SIZE + i) * 7_919 % 400) as u32;
    (page < args.pages as usize).then(|| (0..PAGE_SIZE).map(price).collect())
}

/// A subroutine runs to completion: every page is fetched before the caller sees one price.
fn all_prices(args: &Args) -> Vec<u32> {
    let (mut prices, mut page) = (Vec::new(), 0);
    while let Some(batch) = fetch_page(page, args) {
        prices.extend(batch);
        page += 1;
    }
    prices
}
// ANCHOR_END: subroutine

// ANCHOR: generator
/// Where the reader stopped: everything it needs to resume, and nothing else.
#[derive(Debug)]
enum ReaderState {
    NeedPage(usize),
    InPage { page: usize, prices: Vec<u32>, at: usize },
    Done,
}

/// A generator: each `next` runs until the next price, then suspends by returning.
struct TickerReader<'a> {
    args: &'a Args,
    state: ReaderState,
    fetched: usize,
}

impl Iterator for TickerReader<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        loop {
            match &mut self.state {
                ReaderState::NeedPage(page) => {
                    let page = *page;
                    self.state = match fetch_page(page, self.args) {
                        Some(prices) => ReaderState::InPage { page, prices, at: 0 },
                        None => ReaderState::Done,
                    };
                    self.fetched += matches!(self.state, ReaderState::InPage { .. }) as usize;
                    println!("  reader: page {page} -> {:?}", self.state);
                }
                ReaderState::InPage { page, prices, at } if *at < prices.len() => {
                    *at += 1;
                    return Some(prices[*at - 1]); // Suspend here; the state says where to resume.
                }
                ReaderState::InPage { page, .. } => {
                    self.state = ReaderState::NeedPage(*page + 1);
                }
                ReaderState::Done => return None,
            }
        }
    }
}
// ANCHOR_END: generator

// ANCHOR: running_average
/// A coroutine that also receives values, as Python's `send` does: each
/// `resume(price)` takes one value in and hands the running average out.
enum Average {
    Empty,
    Running { count: u32, sum: u64 },
}

impl Average {
    fn resume(&mut self, price: u32) -> u32 {
        let (count, sum) = match *self {
            Average::Empty => (1, price as u64),
            Average::Running { count, sum } => (count + 1, sum + price as u64),
        };
        *self = Average::Running { count, sum };
        (sum as f64 / count as f64).round() as u32
    }
}
// ANCHOR_END: running_average

// ANCHOR: drive
/// The caller takes a few prices, does other work while the reader sits
/// suspended in its state, then resumes it until it is exhausted. Returns
/// the prices, their average, and how many pages were fetched at the pause.
fn drive(args: &Args) -> (Vec<u32>, u32, usize) {
    let mut reader = TickerReader { args, state: ReaderState::NeedPage(0), fetched: 0 };
    let dollars = |cents: u32| format!("{}.{:02}", cents / 100, cents % 100);
    let (mut average, mut seen, mut mean) = (Average::Empty, Vec::new(), 0);
    let mut fetched_at_pause = 0;
    for batch in [args.take as usize, usize::MAX] {
        for price in reader.by_ref().take(batch) {
            seen.push(price);
            mean = average.resume(price);
            println!("caller: got {}, average so far {}", dollars(price), dollars(mean));
        }
        if batch != usize::MAX {
            fetched_at_pause = reader.fetched;
            println!("caller: paused; the reader waits in {:?}", reader.state);
        }
    }
    (seen, mean, fetched_at_pause)
}
// ANCHOR_END: drive

pub fn run(args: Args) -> std::process::ExitCode {
    let everything = all_prices(&args);
    println!("subroutine: returned {} prices at once", everything.len());
    let (seen, held_mean, fetched_at_pause) = drive(&args);
    let expected_mean = (everything.iter().sum::<u32>() as f64 / everything.len() as f64).round();
    let lazy = seen.len().min(args.take as usize).div_ceil(PAGE_SIZE);
    let prices = figure("prices", seen.len() as f64, "prices");
    figure("pages_fetched_at_pause", fetched_at_pause as f64, "pages");
    let reader_bytes = figure("reader_bytes", size_of::<TickerReader>() as f64, "bytes");
    let average_bytes = figure("average_bytes", size_of::<Average>() as f64, "bytes");
    println!("suspended, the reader is {reader_bytes} and the average {average_bytes}");
    let (pages, mean) = (args.pages, format!("{:.2}", held_mean as f64 / 100.0));
    verdict(
        "the generator yields what the subroutine returns, fetching pages only as needed",
        seen == everything && fetched_at_pause == lazy && held_mean as f64 == expected_mean,
        &format!("{prices}; {fetched_at_pause} of {pages} pages fetched at the pause; mean {mean}"),
    )
}

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
