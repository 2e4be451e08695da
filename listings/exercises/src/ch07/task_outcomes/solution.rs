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
pub async fn collect_outcomes<T>(tasks: Vec<(String, JoinHandle<T>)>) -> Outcomes<T> {
    let mut outcomes =
        Outcomes { finished: Vec::new(), panicked: Vec::new(), cancelled: Vec::new() };
    for (name, task) in tasks {
        match task.await {
            Ok(value) => outcomes.finished.push((name, value)),
            Err(error) if error.is_panic() => {
                outcomes.panicked.push((name, panic_message(error.into_panic())));
            }
            Err(_) => outcomes.cancelled.push(name),
        }
    }
    outcomes
}

/// The text of a panic's payload: `panic!("literal")` carries a `&'static str`,
/// a formatted panic (`panic!("{x}")`, `expect`) a `String`.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast_ref::<&'static str>() {
            Some(message) => message.to_string(),
            None => "(a payload that is not text)".to_string(),
        },
    }
}
