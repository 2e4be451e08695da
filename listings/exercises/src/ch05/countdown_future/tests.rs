use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use crate::ch05::countdown_future::{Countdown, poll_to_completion};

/// `Pending` `pendings` times, then `Ready(label)`.
fn expected(pendings: usize, label: &'static str) -> Vec<Poll<&'static str>> {
    let mut polls = vec![Poll::Pending; pendings];
    polls.push(Poll::Ready(label));
    polls
}

fn check(future: impl Future<Output = &'static str>, limit: usize, want: Vec<Poll<&'static str>>) {
    assert_eq!(poll_to_completion(future, limit), want);
}

#[test]
fn a_countdown_is_pending_n_times_then_ready() {
    check(Countdown { remaining: 3, label: "liftoff" }, 10, expected(3, "liftoff"));
    check(Countdown { remaining: 0, label: "now" }, 10, expected(0, "now"));
}

#[test]
fn an_async_block_awaiting_two_countdowns_passes_their_pendings_through() {
    let both = async {
        let first = Countdown { remaining: 2, label: "bid" }.await;
        let second = Countdown { remaining: 1, label: "ask" }.await;
        if first == "bid" { second } else { "wrong order" }
    };
    check(both, 10, expected(3, "ask"));
}

#[test]
fn polling_stops_at_the_limit() {
    check(Countdown { remaining: 100, label: "late" }, 4, vec![Poll::Pending; 4]);
    let never: Vec<Poll<()>> = poll_to_completion(std::future::pending::<()>(), 5);
    assert_eq!(never, vec![Poll::Pending; 5]);
}

/// A waker that counts how often it is woken.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn every_pending_wakes_the_waker_first() {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut countdown = pin!(Countdown { remaining: 2, label: "done" });
    let mut woken = Vec::new();
    loop {
        let result = countdown.as_mut().poll(&mut cx);
        woken.push(counter.0.load(Ordering::SeqCst));
        if result.is_ready() {
            break;
        }
    }
    // Woken once per Pending, before returning it; not woken by Ready.
    assert_eq!(woken, [1, 2, 2]);
}
