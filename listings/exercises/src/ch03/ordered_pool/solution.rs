//! Ordered pool: a fixed number of worker threads, fed through a channel, results in input order.

use std::sync::{Mutex, mpsc};
use std::thread;

/// Applies `work` to every item on at most `workers` threads at once and
/// returns the results in the order of `items`, whatever order they finish in.
///
/// The items go into a channel that the workers share; each worker takes the
/// next item, works on it, and sends the result back with the item's index.
///
/// # Panics
/// If `workers` is 0.
pub fn map_in_order<T, R, F>(items: Vec<T>, workers: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    assert!(workers > 0, "a pool needs at least one worker");
    let count = items.len();
    let (send_item, inbox) = mpsc::channel();
    for item in items.into_iter().enumerate() {
        send_item.send(item).unwrap();
    }
    drop(send_item); // Workers stop when the channel is empty and closed.
    // A Receiver has one owner; a Mutex lets the workers take turns at it.
    let inbox = Mutex::new(inbox);
    let (send_result, results) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..workers.min(count) {
            let (inbox, work, send_result) = (&inbox, &work, send_result.clone());
            scope.spawn(move || {
                loop {
                    // The lock is released at the end of this statement, before the work.
                    let next = inbox.lock().unwrap().recv();
                    let Ok((index, item)) = next else { break };
                    send_result.send((index, work(item))).unwrap();
                }
            });
        }
    });
    drop(send_result);
    let mut ordered: Vec<Option<R>> = (0..count).map(|_| None).collect();
    for (index, result) in results {
        ordered[index] = Some(result);
    }
    ordered.into_iter().map(|r| r.expect("every item has a result")).collect()
}
