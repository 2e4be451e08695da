use std::future::{Future, poll_fn, ready};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ch06::park_and_wake::block_on;

/// A future that is ready `after` its first poll: a helper thread sleeps,
/// then wakes it, as a reactor or a timer thread would.
struct ThreadTimer {
    after: Duration,
    started: Option<(Instant, JoinHandle<()>)>,
}

impl Future for ThreadTimer {
    type Output = &'static str;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        match &self.started {
            Some((started, _)) if started.elapsed() >= self.after => Poll::Ready("rang"),
            Some(_) => Poll::Pending, // Woken too early? Then wait for the real wake.
            None => {
                let (waker, after) = (cx.waker().clone(), self.after);
                let thread = std::thread::spawn(move || {
                    std::thread::sleep(after);
                    waker.wake();
                });
                self.started = Some((Instant::now(), thread));
                Poll::Pending
            }
        }
    }
}

fn timer(ms: u64) -> ThreadTimer {
    ThreadTimer { after: Duration::from_millis(ms), started: None }
}

/// Runs `future` with `block_on` and checks its output and poll count.
fn check<F: Future<Output: PartialEq + std::fmt::Debug>>(future: F, output: F::Output, polls: u32) {
    assert_eq!(block_on(future), (output, polls));
}

#[test]
fn a_ready_future_is_polled_once() {
    check(ready(42), 42, 1);
}

#[test]
fn a_future_woken_from_another_thread_is_polled_twice_not_spun() {
    let started = Instant::now();
    check(timer(30), "rang", 2);
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[test]
fn a_future_that_wakes_itself_is_polled_again_at_once() {
    let mut yields = 0;
    let yielding = poll_fn(|cx| {
        if yields == 3 {
            return Poll::Ready("done");
        }
        yields += 1;
        cx.waker().wake_by_ref(); // "Poll me again": the wake comes during the poll.
        Poll::Pending
    });
    check(yielding, "done", 4);
}

#[test]
fn two_timers_in_sequence_take_three_polls() {
    let both = async {
        let first = timer(10).await;
        let second = timer(10).await;
        format!("{first} {second}")
    };
    check(both, "rang rang".to_string(), 3);
}
