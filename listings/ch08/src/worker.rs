//! A worker process and its answer: the listing starts itself again
//! (`support::child` has the convention), and the worker prints one JSON
//! value on its standard output, which the parent reads from a pipe.

use std::process::Stdio;

use support::child::Reaped;

// ANCHOR: worker
/// Starts this program again as `listing`'s worker, with `args`, its
/// standard output a pipe to this process.
pub fn start(listing: &str, args: &[String]) -> Reaped {
    let mut command = support::child::command(listing);
    Reaped(command.args(args).stdout(Stdio::piped()).spawn().expect("start a worker process"))
}

/// A worker's answer: the one JSON value it prints before it exits, read
/// from the pipe to its end.
pub fn answer<T: serde::de::DeserializeOwned>(mut worker: Reaped) -> T {
    serde_json::from_reader(worker.0.stdout.take().expect("piped")).expect("a worker's answer")
}
// ANCHOR_END: worker
