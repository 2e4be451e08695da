//! First panic: run jobs on threads and turn the first panic into an `Err` with its message.

use std::any::Any;
use std::thread;

/// A job for [`run_all`]: any closure that can be sent to a thread.
pub type Job<T> = Box<dyn FnOnce() -> T + Send>;

/// Runs every job on a thread of its own, all at once, and waits for every
/// one of them. Returns the results in job order, or, if any job panicked,
/// `Err` with the message of the first job, in job order, that did.
///
/// A message is the panic's text: `panic!("literal")` carries a `&str`,
/// formatted panics (`panic!("{x}")`, `expect`) a `String`. Any other
/// payload becomes the message `"a panic that is not text"`.
pub fn run_all<T: Send + 'static>(jobs: Vec<Job<T>>) -> Result<Vec<T>, String> {
    let threads: Vec<_> = jobs.into_iter().map(thread::spawn).collect();
    // Join every thread, even after a panic: none is left running.
    let outcomes: Vec<thread::Result<T>> = threads.into_iter().map(|t| t.join()).collect();
    outcomes.into_iter().map(|outcome| outcome.map_err(|payload| message(&*payload))).collect()
}

fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic that is not text".to_string()
    }
}
