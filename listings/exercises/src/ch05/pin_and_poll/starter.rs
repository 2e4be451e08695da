//! Pin and poll: make futures that borrow themselves pollable, on the stack and on the heap.

use std::future::Future;
use std::pin::Pin;

/// Polls `future` once, where it stands, and returns its output if that one
/// poll finished it (`futures::FutureExt::now_or_never` does the same).
/// No heap allocation: the future is pinned in this function's frame.
///
/// Hints: `F` may not be `Unpin`, so `Pin::new` will not take it;
/// `std::pin::pin!` will. `Context::from_waker(Waker::noop())` makes a context.
#[allow(unused_variables)]
pub fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    todo!("pin the future on the stack and poll it once")
}

/// Runs `futures`, already pinned on the heap, to completion on one thread:
/// each round polls every unfinished future once, in index order, with a
/// no-op waker. Returns `(index, output)` in the order they finished. A
/// finished future is never polled again.
///
/// Hints: `futures[i].as_mut()` is a `Pin<&mut dyn Future>`, which `poll`
/// takes; keep the indices still running (`Vec::retain` can drop the finished).
#[allow(unused_variables, unused_mut)]
pub fn round_robin<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<(usize, T)> {
    todo!("poll every unfinished future once per round until all are Ready")
}
