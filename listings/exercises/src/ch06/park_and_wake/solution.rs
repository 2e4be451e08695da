//! Park and wake: the smallest executor, `block_on` for one future.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

/// The waker of [`block_on`]: calling it records the wake and unparks the
/// thread that waits in `block_on`. It may be called from any thread.
pub struct ThreadWaker {
    /// The thread to unpark.
    pub thread: Thread,
    /// Set by a wake, cleared by `block_on` before each poll.
    pub woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, SeqCst);
        self.thread.unpark();
    }
}

/// Runs `future` to completion on this thread and returns its output with
/// the number of times it was polled.
///
/// Poll it with a `Context` made from an `Arc<ThreadWaker>`; while it is
/// pending, park the thread until the waker has been called. Beware:
/// `std::thread::park` may also return for no reason at all (a spurious
/// wake-up), so park again unless the waker really was called. A future must
/// not be polled again until it has been woken: no busy polling.
pub fn block_on<F: Future>(future: F) -> (F::Output, u32) {
    let mut future = pin!(future);
    let state =
        Arc::new(ThreadWaker { thread: std::thread::current(), woken: AtomicBool::new(false) });
    let waker = Waker::from(Arc::clone(&state));
    let mut cx = Context::from_waker(&waker);
    let mut polls = 0;
    loop {
        // Cleared before the poll: a wake during the poll is not lost.
        state.woken.store(false, SeqCst);
        polls += 1;
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return (output, polls);
        }
        while !state.woken.load(SeqCst) {
            std::thread::park(); // Returns on unpark, or spuriously: check again.
        }
    }
}
