//! A `Future` is a state machine polled from outside; an `async fn` is one the compiler writes.
//!
//!     cargo run --release -p ch05 --bin future_by_hand -- --bid-polls 2 --ask-polls 1

use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use support::report::{Table, figure, verdict};

/// Poll a quote fetch by hand: first a Future written out, then the same as an `async fn`.
#[derive(clap::Parser)]
pub struct Args {
    /// How many polls the bid quote answers `Pending` before it is ready.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    bid_polls: u32,
    /// How many polls the ask quote answers `Pending` before it is ready.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=100))]
    ask_polls: u32,
}

/// What happened, in order: the same log for both versions, written by `note`.
static TRACE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
fn note(line: impl Into<String>) {
    TRACE.lock().unwrap().push(line.into());
}

// ANCHOR: leaf
/// A quote from the feed that answers `Pending` to its first `polls` polls, like
/// a socket with no data yet. A real leaf future would hand the waker to the OS
/// poller (chapter 6) and return; this one asks to be polled again at once.
struct NextQuote {
    side: &'static str,
    polls: u32,
    price: u32,
}

impl Future for NextQuote {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.polls == 0 {
            return Poll::Ready(self.price);
        }
        self.polls -= 1;
        note(format!("  {} not there yet", self.side));
        cx.waker().wake_by_ref(); // "Poll me again": without this nobody would.
        Poll::Pending
    }
}
// ANCHOR_END: leaf

// ANCHOR: by_hand
/// The spread between bid and ask as a hand-written state machine: one variant per place where
/// it can be suspended. A future does nothing until polled, so both quotes are made up front.
enum Spread {
    Start { bid: NextQuote, ask: NextQuote },
    AwaitingBid { bid: NextQuote, ask: NextQuote },
    AwaitingAsk { bid: u32, ask: NextQuote },
    Done,
}

impl Future for Spread {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        loop {
            // Every field is Unpin, so the state may be moved out and replaced.
            match std::mem::replace(&mut *self, Spread::Done) {
                Spread::Start { bid, ask } => {
                    note("  Start -> AwaitingBid");
                    *self = Spread::AwaitingBid { bid, ask };
                }
                Spread::AwaitingBid { mut bid, ask } => {
                    let Poll::Ready(price) = Pin::new(&mut bid).poll(cx) else {
                        *self = Spread::AwaitingBid { bid, ask };
                        return Poll::Pending; // Suspended: the state remembers where.
                    };
                    note(format!("  bid {price} -> AwaitingAsk"));
                    *self = Spread::AwaitingAsk { bid: price, ask };
                }
                Spread::AwaitingAsk { bid, mut ask } => {
                    let Poll::Ready(price) = Pin::new(&mut ask).poll(cx) else {
                        *self = Spread::AwaitingAsk { bid, ask };
                        return Poll::Pending;
                    };
                    note(format!("  ask {price} -> Done"));
                    return Poll::Ready(price - bid);
                }
                Spread::Done => panic!("polled after completion"),
            }
        }
    }
}
// ANCHOR_END: by_hand

// ANCHOR: async_fn
/// The same computation as an `async fn`: the compiler writes the enum.
async fn spread(bid: NextQuote, ask: NextQuote) -> u32 {
    note("  Start -> AwaitingBid");
    let bid = bid.await;
    note(format!("  bid {bid} -> AwaitingAsk"));
    let ask = ask.await;
    note(format!("  ask {ask} -> Done"));
    ask - bid
}
// ANCHOR_END: async_fn

// ANCHOR: poll_by_hand
/// The smallest executor there is: poll until `Ready`, logging every result.
/// The no-op waker (std, stable since Rust 1.85) ignores every wake-up, so
/// this loop polls again at once; a real executor sleeps until woken.
fn poll_by_hand(future: impl Future<Output = u32>) -> u32 {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for poll in 1.. {
        let result = future.as_mut().poll(&mut cx);
        note(format!("poll {poll}: {result:?}"));
        if let Poll::Ready(spread) = result {
            return spread;
        }
    }
    unreachable!("`1..` never ends")
}
// ANCHOR_END: poll_by_hand

pub fn run(args: Args) -> std::process::ExitCode {
    let bid = || NextQuote { side: "bid", polls: args.bid_polls, price: 10_157 };
    let ask = || NextQuote { side: "ask", polls: args.ask_polls, price: 10_176 };
    let trace = || std::mem::take(&mut *TRACE.lock().unwrap());
    let (spread_hand, by_hand) = (poll_by_hand(Spread::Start { bid: bid(), ask: ask() }), trace());
    let (spread_compiler, by_compiler) = (poll_by_hand(spread(bid(), ask())), trace());
    let mut table = Table::new(["step", "hand-written Future", "async fn"]);
    for (step, line) in by_hand.iter().enumerate() {
        let other = by_compiler.get(step).map_or("(missing)", String::as_str);
        table.cells(&format!("{}|{line}|{other}", step + 1));
    }
    table.print();
    let polls = by_hand.iter().filter(|line| line.starts_with("poll")).count();
    let polls = figure("polls", polls as f64, "polls");
    let spread = figure("spread", spread_hand as f64, "cents");
    let same = by_hand == by_compiler && spread_hand == spread_compiler;
    verdict(
        "the async fn goes through the same states and Poll results as the hand-written Future",
        same && polls.value == (args.bid_polls + args.ask_polls + 1) as f64,
        &format!("{polls} each, {} identical trace lines, spread {spread}", by_hand.len()),
    )
}

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
