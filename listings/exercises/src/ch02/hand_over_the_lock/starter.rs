//! Hand over the lock: the two methods that make an interpreter lock share.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// An interpreter lock as in chapter 2: turns handed out by ticket, and a
/// drop request that a thread sets once it has waited a whole interval.
pub struct InterpreterLock {
    switch_interval: Duration,
    /// (the next ticket to hand out, the ticket whose turn it is)
    tickets: Mutex<(u64, u64)>,
    turn_changed: Condvar,
    drop_request: AtomicBool,
}

impl InterpreterLock {
    /// A free lock with this switch interval.
    pub fn new(switch_interval: Duration) -> InterpreterLock {
        InterpreterLock {
            switch_interval,
            tickets: Mutex::new((0, 0)),
            turn_changed: Condvar::new(),
            drop_request: AtomicBool::new(false),
        }
    }

    /// Blocks until this thread holds the lock.
    pub fn acquire(&self) -> Holder<'_> {
        self.wait_for_turn();
        Holder { lock: self }
    }

    /// Takes a ticket and blocks until it is served. After each whole
    /// interval of the same turn, asks the holder to let go.
    fn wait_for_turn(&self) {
        let mut tickets = self.tickets.lock().unwrap();
        let ticket = tickets.0;
        tickets.0 += 1;
        while tickets.1 != ticket {
            let turn = tickets.1;
            let (next, wait) = self
                .turn_changed
                .wait_timeout(tickets, self.switch_interval)
                .unwrap();
            tickets = next;
            if wait.timed_out() && tickets.1 == turn {
                self.drop_request.store(true, Relaxed);
            }
        }
    }

    /// Ends the current turn: the next ticket is served.
    fn release(&self) {
        let mut tickets = self.tickets.lock().unwrap();
        tickets.1 += 1;
        self.drop_request.store(false, Relaxed);
        drop(tickets);
        self.turn_changed.notify_all();
    }
}

/// Proof that this thread holds the lock; dropping it releases the lock.
pub struct Holder<'a> {
    lock: &'a InterpreterLock,
}

impl Holder<'_> {
    /// Called between two units of work: if another thread has asked for
    /// the lock, hand it over, wait for the next turn, and return `true`;
    /// otherwise keep it and return `false`.
    ///
    /// Hint: the request is `self.lock.drop_request`; `release` and
    /// `wait_for_turn` do the rest.
    pub fn checkpoint(&mut self) -> bool {
        todo!("hand the lock over if a waiting thread asked for it")
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
