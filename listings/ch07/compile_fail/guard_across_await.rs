//! A `std::sync::MutexGuard` held across an `.await` makes the future `!Send`,
//! so a work-stealing runtime's `spawn` refuses it at compile time; the root
//! cause, a guard that may not leave its thread, is error E0277.
//!
//!     rustc --edition 2024 listings/ch07/compile_fail/guard_across_await.rs

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// The same bound as `tokio::spawn`: the task may move to another worker
/// thread between two polls, so it must be `Send`.
fn spawn<F: Future + Send + 'static>(task: F) {
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

// ANCHOR: rebalance
async fn rebalance(portfolio: Arc<Mutex<Vec<(String, f64)>>>) {
    let mut holdings = portfolio.lock().unwrap();
    // The guard is still alive here, across the await.
    let price = FetchPrice { asked: false }.await;
    holdings.push(("ACME".to_string(), price));
}

fn start_rebalancing(portfolio: Arc<Mutex<Vec<(String, f64)>>>) {
    spawn(rebalance(portfolio));
}
// ANCHOR_END: rebalance

// ANCHOR: guard_to_thread
/// The reason, without async: the guard itself may not move to another
/// thread, because the lock must be released by the thread that took it.
fn hand_over(portfolio: Arc<Mutex<Vec<(String, f64)>>>) {
    let holdings = portfolio.lock().unwrap();
    std::thread::spawn(move || drop(holdings));
}
// ANCHOR_END: guard_to_thread

fn main() {
    let portfolio = Arc::new(Mutex::new(Vec::new()));
    start_rebalancing(portfolio.clone());
    hand_over(portfolio);
}
