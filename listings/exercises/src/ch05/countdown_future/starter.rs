//! Countdown: a `Future` written by hand, and the smallest executor that polls it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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

    /// Hints: `Countdown` is `Unpin`, so `self.remaining -= 1` works through
    /// the `Pin`; the waker is `cx.waker()`.
    #[allow(unused_variables, unused_mut)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        todo!("Ready(label) when the count is 0; otherwise count down, wake, and return Pending")
    }
}

/// Polls `future` with a no-op waker until it is ready, at most `limit`
/// times, and returns every poll's result in order: some `Pending`s, then
/// `Ready(output)` unless the limit came first.
///
/// Hints: `std::pin::pin!` pins a future on the stack; `std::task::Waker::noop()`
/// (stable since Rust 1.85) and `Context::from_waker` make the context.
#[allow(unused_variables)]
pub fn poll_to_completion<F: Future>(future: F, limit: usize) -> Vec<Poll<F::Output>> {
    todo!("pin the future, make a context, and poll until Ready or the limit")
}
