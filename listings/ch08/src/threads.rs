//! The thread model of chapter 8's I/O listings (`io_every_model`,
//! `io_at_scale`): a piece of work on each of `n` OS threads, all at once.

// ANCHOR: each
/// Runs `work(0)`, `work(1)`, ... `work(n - 1)`, each on an OS thread of its
/// own, all at once; waits for every thread and adds up what they return.
pub fn each(n: u32, work: impl Fn(u32) -> usize + Sync) -> usize {
    std::thread::scope(|s| {
        let work = &work;
        let handles: Vec<_> = (0..n).map(|i| s.spawn(move || work(i))).collect();
        handles.into_iter().map(|h| h.join().expect("a thread's work")).sum()
    })
}
// ANCHOR_END: each
