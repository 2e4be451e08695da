//! A global interpreter lock, the chapter's model of CPython's: the listing
//! `interpreter_lock` watches threads take turns on it, and `cpu_threads`,
//! `io_threads` and `convoy` run their work under it, so the page shows
//! exactly the lock the measurements ran.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

// ANCHOR: lock
/// A global interpreter lock modelled on CPython's since 3.2: a thread must
/// hold it to run interpreted work, gives it up when another thread has
/// waited a whole switch interval, and releases it around blocking I/O.
pub struct InterpreterLock {
    switch_interval: Duration,
    state: Mutex<State>,
    turn_changed: Condvar,
    /// Set by a thread that has waited a whole switch interval; the holder
    /// polls it between units of work (CPython's "eval breaker").
    drop_request: AtomicBool,
}

/// Turns are handed out like tickets at a counter: a thread holds the lock
/// while `serving` equals its ticket. A thread that gives the lock up takes
/// a new ticket behind everyone already waiting, so it cannot grab the lock
/// straight back. CPython gets that effect with `FORCE_SWITCHING` (the
/// dropping thread waits until another has taken the GIL) but lets the OS
/// pick which waiter goes next; tickets make the order first come, first
/// served, which is simpler to reason about.
#[derive(Default)]
struct State {
    next_ticket: u64,
    serving: u64,
    stats: Stats,
    handed_over_at: Option<Instant>,
}

/// What hand-overs cost: how many there were, and how long the lock sat
/// released, with a thread waiting for it, before that thread ran.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Hand-overs to a waiting thread, for any reason.
    pub handovers: u64,
    /// Of those, the ones a drop request forced on a busy holder.
    pub forced: u64,
    /// Time lost between a release and the next holder running.
    pub in_transit: Duration,
}

impl InterpreterLock {
    /// A free lock with this switch interval (CPython's default is 5 ms).
    pub fn new(switch_interval: Duration) -> InterpreterLock {
        InterpreterLock {
            switch_interval,
            state: Mutex::default(),
            turn_changed: Condvar::new(),
            drop_request: AtomicBool::new(false),
        }
    }

    /// Blocks until this thread holds the lock.
    pub fn acquire(&self) -> Holder<'_> {
        self.wait_for_turn();
        Holder { lock: self }
    }

    /// Takes a ticket and sleeps until it is served, waking at least once
    /// per switch interval to see whether the turn it waits behind is over.
    fn wait_for_turn(&self) {
        let mut state = self.state();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        while state.serving != ticket {
            let turn = state.serving;
            let (next, wait) = self.turn_changed.wait_timeout(state, self.switch_interval).unwrap();
            state = next;
            // A whole interval passed and the same turn is still running:
            // ask its holder to let go, as CPython's `take_gil` does.
            if wait.timed_out() && state.serving == turn {
                self.drop_request.store(true, Relaxed);
            }
        }
        if let Some(released) = state.handed_over_at.take() {
            state.stats.in_transit += released.elapsed();
        }
    }

    /// Ends the current turn: serves the next ticket and wakes the waiters.
    /// `forced` says a drop request made the holder let go.
    fn release(&self, forced: bool) {
        let mut state = self.state();
        state.serving += 1;
        self.drop_request.store(false, Relaxed);
        if state.serving < state.next_ticket {
            state.stats.handovers += 1;
            state.stats.forced += u64::from(forced);
            state.handed_over_at = Some(Instant::now());
        }
        drop(state);
        self.turn_changed.notify_all();
    }

    /// The hand-overs so far.
    pub fn stats(&self) -> Stats {
        self.state().stats
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No code outside this file runs while `state` is locked, so it
        // cannot be poisoned by a panic in the caller's work.
        self.state.lock().unwrap()
    }
}

/// Proof that this thread holds the lock; dropping it releases the lock.
pub struct Holder<'a> {
    lock: &'a InterpreterLock,
}

impl Holder<'_> {
    /// Called between two units of interpreted work: if another thread has
    /// asked for the lock, hand it over and wait for the next turn. Returns
    /// whether it did. Without a waiter this is one relaxed load: cheap.
    pub fn checkpoint(&mut self) -> bool {
        if !self.lock.drop_request.load(Relaxed) {
            return false;
        }
        self.lock.release(true);
        self.lock.wait_for_turn();
        true
    }

    /// Runs `io` with the lock released, so other threads run meanwhile,
    /// then takes it back, even if `io` panics.
    pub fn blocking_io<T>(&mut self, io: impl FnOnce() -> T) -> T {
        // The lock is taken back by a guard's drop, which runs when `io`
        // returns and when it unwinds, so the holder's own drop always has
        // a turn to release, exactly once.
        struct TakeBack<'a>(&'a InterpreterLock);
        impl Drop for TakeBack<'_> {
            fn drop(&mut self) {
                self.0.wait_for_turn();
            }
        }
        self.lock.release(false);
        let _take_back = TakeBack(self.lock);
        io()
    }
}

impl Drop for Holder<'_> {
    fn drop(&mut self) {
        self.lock.release(false);
    }
}
// ANCHOR_END: lock
