//! A watchdog for slow polls: wrap any future, and learn how long each of its
//! polls held the thread, that is, how long it ran between two `.await`s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

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
///
/// Hint: keep the future as `Pin<Box<F>>`; then `Watchdog` is `Unpin` and
/// `poll` can reach its fields through `self` without any unsafe code.
#[allow(dead_code)] // the fields are yours to use
pub struct Watchdog<F> {
    inner: Pin<Box<F>>,
    threshold: Duration,
    report: Report,
}

impl<F: Future> Watchdog<F> {
    /// Watches `inner`; a poll that takes longer than `threshold` is slow.
    #[allow(unused_variables)]
    pub fn new(inner: F, threshold: Duration) -> Self {
        todo!("box and pin the future, start an empty report")
    }
}

impl<F: Future> Future for Watchdog<F> {
    type Output = (F::Output, Report);

    /// Time the inner future's `poll` with `Instant::now()`, count it, record
    /// it if it is slow, and when the inner future is ready, return its output
    /// with the report.
    #[allow(unused_variables)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("time one poll of the inner future")
    }
}
