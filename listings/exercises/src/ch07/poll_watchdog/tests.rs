use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::ch07::poll_watchdog::{Report, Watchdog};

/// The threshold the tests use; the slow polls block far longer, the fast
/// ones do nothing, so a busy machine cannot blur the two.
const THRESHOLD: Duration = Duration::from_millis(30);
const SLOW: Duration = Duration::from_millis(120);

/// Polls `future` on this thread until it is ready (it always wakes itself).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// A future whose poll number `k` (from 1) blocks the thread for
/// `pauses[k - 1]`, then is pending, except the last, which is ready with
/// the number of polls.
struct Steps {
    pauses: Vec<Duration>,
    polled: usize,
}

impl Future for Steps {
    type Output = usize;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        std::thread::sleep(self.pauses[self.polled]);
        self.polled += 1;
        if self.polled == self.pauses.len() {
            return Poll::Ready(self.polled);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Watches a `Steps` future with these pauses and checks the report: how many
/// polls, and which of them were slow.
fn check(pauses: &[Duration], expected_polls: u32, expected_slow: &[u32]) {
    let steps = Steps { pauses: pauses.to_vec(), polled: 0 };
    let (output, Report { polls, slow }) = block_on(Watchdog::new(steps, THRESHOLD));
    assert_eq!(output, pauses.len(), "the inner future's output passes through");
    assert_eq!(polls, expected_polls, "polls counted");
    let numbers: Vec<u32> = slow.iter().map(|(poll, _)| *poll).collect();
    assert_eq!(numbers, expected_slow, "which polls were slow");
    for (poll, took) in slow {
        assert!(took >= SLOW, "poll {poll} took {took:?}, at least {SLOW:?} expected");
    }
}

#[test]
fn a_future_ready_at_once_is_polled_once_and_is_not_slow() {
    let (price, report) = block_on(Watchdog::new(std::future::ready(101.5), THRESHOLD));
    assert_eq!(price, 101.5);
    assert_eq!(report, Report { polls: 1, slow: vec![] });
}

#[test]
fn only_the_polls_that_block_are_reported() {
    let zero = Duration::ZERO;
    check(&[zero, SLOW, zero, SLOW, zero], 5, &[2, 4]);
}

#[test]
fn a_last_poll_that_blocks_is_reported_too() {
    check(&[Duration::ZERO, Duration::ZERO, SLOW], 3, &[3]);
}

#[test]
fn an_async_block_that_blocks_before_its_first_await_is_caught() {
    let handler = async {
        std::thread::sleep(SLOW); // A blocking call inside async code.
        Steps { pauses: vec![Duration::ZERO; 2], polled: 0 }.await
    };
    let (output, report) = block_on(Watchdog::new(handler, THRESHOLD));
    assert_eq!(output, 2);
    assert_eq!(report.polls, 2);
    assert_eq!(report.slow.iter().map(|(poll, _)| *poll).collect::<Vec<_>>(), [1]);
}
