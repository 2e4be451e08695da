//! Hand over the lock, CPython's way: the thread that lets go waits until
//! another has taken the lock, so it cannot take it straight back.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// An interpreter lock built like CPython's GIL since 3.2. Unlike the
/// chapter's lock it has no queue of tickets: a released lock goes to
/// whichever waiting thread the OS wakes first.
pub struct InterpreterLock {
    switch_interval: Duration,
    state: Mutex<State>,
    /// Notified when the lock is released.
    released: Condvar,
    /// Notified when a thread takes the lock.
    taken: Condvar,
    /// Set by a thread that has waited a whole interval for the same turn.
    drop_request: AtomicBool,
}

#[derive(Default)]
struct State {
    held: bool,
    /// How many times a thread has taken the lock: CPython's `switch_number`.
    switches: u64,
}

impl InterpreterLock {
    /// A free lock with this switch interval.
    pub fn new(switch_interval: Duration) -> InterpreterLock {
        InterpreterLock {
            switch_interval,
            state: Mutex::default(),
            released: Condvar::new(),
            taken: Condvar::new(),
            drop_request: AtomicBool::new(false),
        }
    }

    /// Blocks until this thread holds the lock.
    pub fn acquire(&self) -> Holder<'_> {
        self.take();
        Holder { lock: self }
    }

    /// Waits until the lock is free and takes it. When a whole interval
    /// passes and nobody has taken the lock meanwhile, asks the holder to
    /// let go (CPython's `take_gil`).
    fn take(&self) {
        let mut state = self.state.lock().unwrap();
        while state.held {
            let switches = state.switches;
            let (next, wait) = self.released.wait_timeout(state, self.switch_interval).unwrap();
            state = next;
            if wait.timed_out() && state.held && state.switches == switches {
                self.drop_request.store(true, Relaxed);
            }
        }
        state.held = true;
        state.switches += 1;
        drop(state);
        self.taken.notify_all();
    }

    /// Releases the lock and wakes the threads waiting for it. Returns the
    /// number of switches so far, to wait for the next one with.
    fn release(&self) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.held = false;
        self.drop_request.store(false, Relaxed);
        let switches = state.switches;
        drop(state);
        self.released.notify_all();
        switches
    }
}

/// Proof that this thread holds the lock; dropping it releases the lock.
pub struct Holder<'a> {
    lock: &'a InterpreterLock,
}

impl Holder<'_> {
    /// Called between two units of work: if another thread has asked for
    /// the lock, hand it over, wait for a turn again, and return `true`;
    /// otherwise keep it and return `false`.
    ///
    /// Hints: the request is `self.lock.drop_request`. Right after
    /// releasing, this thread is still running and the one that asked is
    /// still asleep: what stops this thread from taking the lock straight
    /// back? `State::switches` and the `taken` condition variable help.
    pub fn checkpoint(&mut self) -> bool {
        todo!("hand the lock over to the thread that asked for it")
    }

    /// Runs `io` with the lock released, so that other threads run while
    /// this one waits, and takes the lock back before returning `io`'s
    /// result, even if `io` panics (the holder's drop releases it again).
    ///
    /// Hint: code that must run even when `io` unwinds belongs in a `Drop`.
    #[allow(unused_variables)]
    pub fn blocking_io<T>(&mut self, io: impl FnOnce() -> T) -> T {
        todo!("release, run io, take the lock back")
    }
}

impl Drop for Holder<'_> {
    fn drop(&mut self) {
        self.lock.release();
    }
}
