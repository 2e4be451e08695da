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
    pub fn spawn(make: impl FnOnce() -> R + Send + 'static) -> (Actor<R>, JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel::<Job<R>>();
        let owner = std::thread::spawn(move || {
            let mut resource = make();
            // `recv` fails, and the loop ends, when every sender is gone.
            for job in queue {
                job(&mut resource);
            }
        });
        (Actor { jobs }, owner)
    }

    /// Runs `job` on the owner thread, with the resource, and returns its
    /// answer. Jobs run one at a time, in the order they arrive.
    pub fn call<T: Send + 'static>(&self, job: impl FnOnce(&mut R) -> T + Send + 'static) -> T {
        let (answer, answered) = mpsc::channel();
        let job: Job<R> = Box::new(move |resource| {
            let _ = answer.send(job(resource)); // The caller may have gone.
        });
        self.jobs.send(job).expect("the owner thread is alive");
        answered.recv().expect("the owner thread answers")
    }
}
