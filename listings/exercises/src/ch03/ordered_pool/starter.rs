//! Ordered pool: a fixed number of worker threads, fed through a channel, results in input order.

/// Applies `work` to every item on at most `workers` threads at once and
/// returns the results in the order of `items`, whatever order they finish in.
///
/// The items go into a channel that the workers share; each worker takes the
/// next item, works on it, and sends the result back with the item's index.
///
/// # Panics
/// If `workers` is 0.
///
/// Hints: `std::thread::scope` lets the workers borrow `work`; an
/// `mpsc::Receiver` has one owner, so share it as `Mutex<Receiver<_>>` and
/// hold the lock only while taking an item; a second channel brings back
/// `(index, result)` pairs, which you put in place.
#[allow(unused_variables)]
pub fn map_in_order<T, R, F>(items: Vec<T>, workers: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    todo!("start `workers` threads that share a channel of items, then put the results in order")
}
