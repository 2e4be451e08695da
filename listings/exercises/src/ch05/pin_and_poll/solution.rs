//! Pin and poll: make futures that borrow themselves pollable, on the stack and on the heap.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// Polls `future` once, where it stands, and returns its output if that one
/// poll finished it (`futures::FutureExt::now_or_never` does the same).
/// No heap allocation: the future is pinned in this function's frame.
pub fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let future = pin!(future);
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Runs `futures`, already pinned on the heap, to completion on one thread:
/// each round polls every unfinished future once, in index order, with a
/// no-op waker. Returns `(index, output)` in the order they finished. A
/// finished future is never polled again.
pub fn round_robin<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<(usize, T)> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut running: Vec<usize> = (0..futures.len()).collect();
    let mut finished = Vec::new();
    while !running.is_empty() {
        running.retain(|&index| match futures[index].as_mut().poll(&mut cx) {
            Poll::Ready(output) => {
                finished.push((index, output));
                false
            }
            Poll::Pending => true,
        });
    }
    finished
}
