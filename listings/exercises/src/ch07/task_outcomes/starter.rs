//! Await every task of a batch and sort what happened to each: a value, a
//! panic (with its message), or a cancellation. No failure may escape: one
//! panicking task must not hide the others' results.

use tokio::task::JoinHandle;

/// What became of each task, by its name, in the order the handles came.
#[derive(Debug, Default, PartialEq)]
pub struct Outcomes<T> {
    /// The tasks that returned, with their values.
    pub finished: Vec<(String, T)>,
    /// The tasks that panicked, with the panic's message.
    pub panicked: Vec<(String, String)>,
    /// The tasks that were aborted before they finished.
    pub cancelled: Vec<String>,
}

/// Awaits every handle and sorts its result into `Outcomes`.
///
/// Hint: `task.await` is a `Result<T, JoinError>`; `JoinError` has
/// `is_panic()`, `is_cancelled()` and `into_panic()`.
#[allow(unused_variables)]
pub async fn collect_outcomes<T>(tasks: Vec<(String, JoinHandle<T>)>) -> Outcomes<T> {
    todo!("await each handle, sort its result")
}

/// The text of a panic's payload: `panic!("literal")` carries a `&'static str`,
/// a formatted panic (`panic!("{x}")`, `expect`) a `String`.
///
/// Hint: `payload.downcast::<String>()` gives the payload back when it fails.
#[allow(unused_variables)]
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    todo!("downcast to String, then to &'static str")
}
