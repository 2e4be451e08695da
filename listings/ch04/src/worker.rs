//! A worker process for one job: this program again, started with `--worker`,
//! its job sent down its stdin as JSON and its answer read back up its stdout.

use std::process::{ExitCode, Stdio};

use serde::Serialize;
use serde::de::DeserializeOwned;
use support::child::Reaped;

// ANCHOR: protocol
/// Starts this program again as a worker of `listing` and sends it its job as
/// JSON: plain data, copied through the pipe. The answer comes back the same way.
pub fn start(listing: &str, job: &impl Serialize) -> Reaped {
    let mut command = support::child::command(listing);
    command.arg("--worker").stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut worker = Reaped(command.spawn().expect("start a worker process"));
    // `to_writer` takes stdin and drops it: the pipe closes, the worker reads to its end.
    serde_json::to_writer(worker.0.stdin.take().expect("piped"), job).expect("send the job");
    worker
}

/// The worker's side: one job in, `work` done on it, one answer out.
pub fn serve<Job, Answer>(work: impl FnOnce(Job) -> Answer) -> ExitCode
where
    Job: DeserializeOwned,
    Answer: Serialize,
{
    let job = serde_json::from_reader(std::io::stdin()).expect("a well-formed job");
    serde_json::to_writer(std::io::stdout(), &work(job)).expect("send the answer");
    ExitCode::SUCCESS
}

/// The parent's side again: read the answer to its end, then reap the worker.
pub fn answer<Answer: DeserializeOwned>(mut worker: Reaped) -> Answer {
    let answer = serde_json::from_reader(worker.0.stdout.take().expect("piped"));
    let status = worker.0.wait().expect("wait for the worker");
    assert!(status.success(), "the worker failed: {status}");
    answer.expect("a well-formed answer")
}
// ANCHOR_END: protocol
