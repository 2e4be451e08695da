//! A thread that does blocking work for a readiness loop, and wakes the
//! loop's `poll` with what to do once each piece of work is done.

use std::sync::mpsc;

use mio::{Poll, Token, Waker};

// ANCHOR: worker
/// What the worker runs; it returns what the loop should run once it is done.
pub type Job = Box<dyn FnOnce() -> Completion + Send>;
/// What the loop runs once a job is done.
pub type Completion = Box<dyn FnOnce() + Send>;

/// One worker thread and the jobs it has not yet handed back.
pub struct Worker {
    jobs: mpsc::Sender<Job>,
    completions: mpsc::Receiver<Completion>,
    running: usize,
}

impl Worker {
    /// Starts the thread, before the loop runs, as tokio's blocking pool keeps its threads:
    /// starting a thread is itself a system call that can block. Each job it finishes wakes
    /// `poll` with an event under `token`.
    pub fn start(poll: &Poll, token: Token) -> Worker {
        let waker = Waker::new(poll.registry(), token).expect("create the waker");
        let ((jobs, queue), (done, completions)) = (mpsc::channel::<Job>(), mpsc::channel());
        std::thread::spawn(move || {
            for job in queue {
                let _ = done.send(job());
                waker.wake().expect("wake the loop");
            }
        });
        Worker { jobs, completions, running: 0 }
    }

    /// Runs `job` on the worker thread; its completion waits for [`Worker::complete`].
    pub fn spawn_blocking(&mut self, job: impl FnOnce() -> Completion + Send + 'static) {
        self.running += 1;
        self.jobs.send(Box::new(job)).expect("the worker runs while the loop does");
    }

    /// Runs, on the calling thread, the completions of the jobs that are done.
    pub fn complete(&mut self) {
        self.running -= self.completions.try_iter().map(|completion| completion()).count();
    }

    /// How many jobs have not had their completion run yet.
    pub fn running(&self) -> usize {
        self.running
    }
}
// ANCHOR_END: worker
