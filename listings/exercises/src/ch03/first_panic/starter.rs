//! First panic: run jobs on threads and turn the first panic into an `Err` with its message.

/// A job for [`run_all`]: any closure that can be sent to a thread.
pub type Job<T> = Box<dyn FnOnce() -> T + Send>;

/// Runs every job on a thread of its own, all at once, and waits for every
/// one of them. Returns the results in job order, or, if any job panicked,
/// `Err` with the message of the first job, in job order, that did.
///
/// A message is the panic's text: `panic!("literal")` carries a `&str`,
/// formatted panics (`panic!("{x}")`, `expect`) a `String`. Any other
/// payload becomes the message `"a panic that is not text"`.
///
/// Hints: `JoinHandle::join` returns `Err(payload)` for a thread that
/// panicked; `payload.downcast_ref::<&str>()` and `::<String>()` find the
/// text. Spawn them all before joining any, and join them all.
#[allow(unused_variables)]
pub fn run_all<T: Send + 'static>(jobs: Vec<Job<T>>) -> Result<Vec<T>, String> {
    todo!("spawn every job, join every thread, and report the first panic in job order")
}
