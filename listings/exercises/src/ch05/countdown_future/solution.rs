//! Countdown: a `Future` written by hand, and the smallest executor that polls it.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// A future that answers `Poll::Pending` `remaining` times, then
/// `Poll::Ready(label)`. Each time it answers `Pending` it wakes its waker
/// first, so that an executor knows to poll it again.
pub struct Countdown {
    /// How many more polls answer `Pending`.
    pub remaining: u32,
    /// What the future returns once the countdown is over.
    pub label: &'static str,
}

impl Future for Countdown {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        if self.remaining == 0 {
            return Poll::Ready(self.label);
        }
        self.remaining -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Polls `future` with a no-op waker until it is ready, at most `limit`
/// times, and returns every poll's result in order: some `Pending`s, then
/// `Ready(output)` unless the limit came first.
pub fn poll_to_completion<F: Future>(future: F, limit: usize) -> Vec<Poll<F::Output>> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    let mut results = Vec::new();
    while results.len() < limit {
        let result = future.as_mut().poll(&mut cx);
        let ready = result.is_ready();
        results.push(result);
        if ready {
            break;
        }
    }
    results
}
