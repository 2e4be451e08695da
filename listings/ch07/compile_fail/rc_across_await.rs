//! An `Rc` held across an `.await` makes the future `!Send`, so a spawn that
//! may run it on any thread (the bound of `tokio::spawn`) refuses it.
//!
//!     rustc --edition 2024 listings/ch07/compile_fail/rc_across_await.rs

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The bound of `tokio::spawn`: the task may move to another worker thread
/// between two polls, so it must be `Send`.
fn spawn_anywhere<F: Future + Send + 'static>(task: F) {
    drop(task); // A stand-in: a real runtime would poll it.
}

/// Stands in for any I/O future: not ready on its first poll, ready on the next.
struct FetchPrice {
    asked: bool,
}

impl Future for FetchPrice {
    type Output = f64;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<f64> {
        if self.asked {
            return Poll::Ready(101.5);
        }
        self.asked = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// ANCHOR: rc_task
/// Prices shared by the tasks of one thread: `Rc` counts its owners without
/// atomics, so two threads must never touch the same one.
fn start_pricing(prices: Rc<RefCell<Vec<f64>>>) {
    spawn_anywhere(async move {
        let price = FetchPrice { asked: false }.await; // `prices` lives across it.
        prices.borrow_mut().push(price);
    });
}
// ANCHOR_END: rc_task

// ANCHOR: rc_inside
/// The same if the task makes its own `Rc`: the future holds it while it is
/// suspended at the `.await`, and a suspended future may move to another thread.
fn start_counting() {
    spawn_anywhere(async {
        let seen = Rc::new(RefCell::new(0));
        let _price = FetchPrice { asked: false }.await;
        *seen.borrow_mut() += 1;
    });
}
// ANCHOR_END: rc_inside

fn main() {
    start_pricing(Rc::new(RefCell::new(Vec::new())));
    start_counting();
}
