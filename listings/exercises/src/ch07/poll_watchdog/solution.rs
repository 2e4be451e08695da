//! A watchdog for slow polls: wrap any future, and learn how long each of its
//! polls held the thread, that is, how long it ran between two `.await`s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// What a [`Watchdog`] saw of its future.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// How many times the future was polled, the last (ready) poll included.
    pub polls: u32,
    /// The polls that took longer than the threshold: the poll's number
    /// (the first poll is 1) and how long it took, in the order they happened.
    pub slow: Vec<(u32, Duration)>,
}

/// Wraps a future; resolves to the future's output and a [`Report`].
pub struct Watchdog<F> {
    inner: Pin<Box<F>>,
    threshold: Duration,
    report: Report,
}

impl<F: Future> Watchdog<F> {
    /// Watches `inner`; a poll that takes longer than `threshold` is slow.
    pub fn new(inner: F, threshold: Duration) -> Self {
        Watchdog { inner: Box::pin(inner), threshold, report: Report::default() }
    }
}

impl<F: Future> Future for Watchdog<F> {
    type Output = (F::Output, Report);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Watchdog` is `Unpin` (its future is boxed), so its fields can be
        // reached through the `Pin` directly.
        let started = Instant::now();
        let result = self.inner.as_mut().poll(cx);
        let took = started.elapsed();
        self.report.polls += 1;
        if took > self.threshold {
            let poll = self.report.polls;
            self.report.slow.push((poll, took));
        }
        result.map(|output| (output, std::mem::take(&mut self.report)))
    }
}
