//! An actor: one thread owns a resource that must stay on it (a database
//! connection, a GUI handle, anything `!Send` or `!Sync`), and callers on any
//! thread send it jobs through a channel and wait for the answers.

use std::sync::mpsc;
use std::thread::JoinHandle;

/// A job for the owner thread: it gets the resource, and sends its own answer.
type Job<R> = Box<dyn FnOnce(&mut R) + Send>;

/// A handle to the owner thread. Clone it to share it: the thread ends when
/// the last handle is dropped.
pub struct Actor<R> {
    #[allow(dead_code)] // yours to use
    jobs: mpsc::Sender<Job<R>>,
}

impl<R> Clone for Actor<R> {
    fn clone(&self) -> Self {
        Actor { jobs: self.jobs.clone() }
    }
}

impl<R: 'static> Actor<R> {
    /// Starts the owner thread. `make` builds the resource *on* that thread,
    /// so `R` itself need not be `Send`. Returns a handle, and the thread's
    /// `JoinHandle`, which finishes once every handle is dropped.
    ///
    /// Hint: `mpsc::channel::<Job<R>>()`; the thread builds the resource, then
    /// runs every job it receives (`for job in queue`).
    #[allow(unused_variables)]
    pub fn spawn(make: impl FnOnce() -> R + Send + 'static) -> (Actor<R>, JoinHandle<()>) {
        todo!("start the owner thread")
    }

    /// Runs `job` on the owner thread, with the resource, and returns its
    /// answer. Jobs run one at a time, in the order they arrive.
    ///
    /// Hint: a second channel carries the answer back; box a closure that
    /// runs `job` and sends its result on it.
    #[allow(unused_variables)]
    pub fn call<T: Send + 'static>(&self, job: impl FnOnce(&mut R) -> T + Send + 'static) -> T {
        todo!("send the job, wait for the answer")
    }
}
