//! A `Future` is a state machine polled from outside; an `async fn` is one the compiler writes.
//!
//!     cargo run --release -p ch05 --bin future_by_hand -- --bid-polls 2 --ask-polls 1

use std::cell::RefCell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::process::ExitCode;
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

/// What happened, in order: the same log for both versions.
#[derive(Default)]
struct Trace(RefCell<Vec<String>>);

impl Trace {
    fn note(&self, line: impl Into<String>) {
        self.0.borrow_mut().push(line.into());
    }
}

// ANCHOR: leaf
/// A quote from the feed that is not there until the `polls`-th poll, like a
/// socket with no data yet. A real leaf future would hand the waker to the
/// OS poller (chapter 6) and return; this one asks to be polled again at once.
struct NextQuote<'a> {
    side: &'static str,
    polls: u32,
    price: u32,
    trace: &'a Trace,
}

impl<'a> NextQuote<'a> {
    fn bid(args: &Args, trace: &'a Trace) -> Self {
        NextQuote { side: "bid", polls: args.bid_polls, price: 10_157, trace }
    }
    fn ask(args: &Args, trace: &'a Trace) -> Self {
        NextQuote { side: "ask", polls: args.ask_polls, price: 10_176, trace }
    }
}

impl Future for NextQuote<'_> {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.polls == 0 {
            return Poll::Ready(self.price);
        }
        self.polls -= 1;
        self.trace.note(format!("  {} not there yet", self.side));
        cx.waker().wake_by_ref(); // "Poll me again": without this nobody would.
        Poll::Pending
    }
}
// ANCHOR_END: leaf

// ANCHOR: by_hand
/// The spread between bid and ask, as a hand-written state machine: one
/// variant per place where the computation can be suspended.
enum Spread<'a> {
    Start { args: &'a Args, trace: &'a Trace },
    AwaitingBid { bid: NextQuote<'a>, args: &'a Args },
    AwaitingAsk { bid: u32, ask: NextQuote<'a> },
    Done,
}

impl Future for Spread<'_> {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        loop {
            // Every field is Unpin, so the state may be moved out and replaced.
            match std::mem::replace(&mut *self, Spread::Done) {
                Spread::Start { args, trace } => {
                    trace.note("  Start -> AwaitingBid");
                    *self = Spread::AwaitingBid { bid: NextQuote::bid(args, trace), args };
                }
                Spread::AwaitingBid { mut bid, args } => match Pin::new(&mut bid).poll(cx) {
                    Poll::Pending => {
                        *self = Spread::AwaitingBid { bid, args };
                        return Poll::Pending; // Suspended: the state remembers where.
                    }
                    Poll::Ready(price) => {
                        bid.trace.note(format!("  bid {price} -> AwaitingAsk"));
                        let ask = NextQuote::ask(args, bid.trace);
                        *self = Spread::AwaitingAsk { bid: price, ask };
                    }
                },
                Spread::AwaitingAsk { bid, mut ask } => match Pin::new(&mut ask).poll(cx) {
                    Poll::Pending => {
                        *self = Spread::AwaitingAsk { bid, ask };
                        return Poll::Pending;
                    }
                    Poll::Ready(price) => {
                        ask.trace.note(format!("  ask {price} -> Done"));
                        return Poll::Ready(price - bid);
                    }
                },
                Spread::Done => panic!("polled after completion"),
            }
        }
    }
}
// ANCHOR_END: by_hand

// ANCHOR: async_fn
/// The same computation as an `async fn`: the compiler writes the enum.
async fn spread(args: &Args, trace: &Trace) -> u32 {
    trace.note("  Start -> AwaitingBid");
    let bid = NextQuote::bid(args, trace).await;
    trace.note(format!("  bid {bid} -> AwaitingAsk"));
    let ask = NextQuote::ask(args, trace).await;
    trace.note(format!("  ask {ask} -> Done"));
    ask - bid
}
// ANCHOR_END: async_fn

// ANCHOR: poll_by_hand
/// The smallest executor there is: poll until `Ready`, logging every result.
/// The no-op waker (std, stable since Rust 1.85) ignores every wake-up, so
/// this loop polls again at once; a real executor sleeps until woken.
fn poll_by_hand(future: impl Future<Output = u32>, trace: &Trace) -> u32 {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for poll in 1.. {
        let result = future.as_mut().poll(&mut cx);
        trace.note(format!("poll {poll}: {result:?}"));
        if let Poll::Ready(spread) = result {
            return spread;
        }
    }
    unreachable!("`1..` never ends")
}
// ANCHOR_END: poll_by_hand

pub fn run(args: Args) -> ExitCode {
    let (by_hand, by_compiler) = (Trace::default(), Trace::default());
    let start = Spread::Start { args: &args, trace: &by_hand };
    let spread_by_hand = poll_by_hand(start, &by_hand);
    let spread_by_compiler = poll_by_hand(spread(&args, &by_compiler), &by_compiler);

    let (by_hand, by_compiler) = (by_hand.0.into_inner(), by_compiler.0.into_inner());
    let mut table = Table::new(["step", "hand-written Future", "async fn"]);
    for (step, line) in by_hand.iter().enumerate() {
        let other = by_compiler.get(step).map_or("(missing)", String::as_str);
        table.row([(step + 1).to_string(), line.clone(), other.to_string()]);
    }
    table.print();

    let polls = by_hand.iter().filter(|line| line.starts_with("poll")).count();
    let polls = figure("polls", polls as f64, "polls");
    let spread = figure("spread", spread_by_hand as f64, "cents");
    let expected_polls = (args.bid_polls + args.ask_polls + 1) as f64;
    verdict(
        "the async fn goes through the same states and Poll results as the hand-written Future",
        by_hand == by_compiler
            && polls.value == expected_polls
            && spread_by_hand == spread_by_compiler,
        &format!("{polls} each, {} identical trace lines, spread {spread}", by_hand.len()),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
