//! The timer heap: which sleeping tasks are due, and how long the loop may wait.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The deadlines of sleeping tasks, in milliseconds on the loop's clock.
///
/// An event loop asks two questions of its timers on every turn: "which tasks
/// are due now?" and "how long may I wait in epoll before the next one is?".
/// A `BinaryHeap` is a max-heap; `Reverse` makes it pop the smallest first.
#[derive(Debug, Default)]
pub struct Timers {
    /// (deadline, order added, task), smallest deadline on top.
    pub heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    /// How many timers were ever added: breaks ties between equal deadlines.
    pub added: u64,
}

impl Timers {
    /// No timers yet.
    pub fn new() -> Timers {
        Timers::default()
    }

    /// Wakes `task` at `deadline_ms`.
    #[allow(unused_variables)]
    pub fn add(&mut self, deadline_ms: u64, task: usize) {
        todo!("push (deadline, order added, task), reversed, and count it")
    }

    /// How long the loop may wait at `now_ms` before the next deadline:
    /// `None` with no timer at all (wait for I/O only), `Some(0)` if one is due.
    #[allow(unused_variables)]
    pub fn next_timeout(&self, now_ms: u64) -> Option<u64> {
        todo!("peek at the soonest deadline")
    }

    /// Removes every timer due at `now_ms` (deadline <= now) and returns their
    /// tasks, soonest deadline first, and in the order added when equal.
    #[allow(unused_variables)]
    pub fn expire(&mut self, now_ms: u64) -> Vec<usize> {
        todo!("pop while the top is due")
    }
}
