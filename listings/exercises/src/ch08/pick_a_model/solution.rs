//! Pick a model: predict the wall time of a workload on each model, and
//! choose the fastest.

/// What a program has to do: `jobs` independent jobs, each using the CPU for
/// `cpu_ms` and waiting `io_ms` for I/O, on a machine with `cores` cores.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    pub jobs: u32,
    pub cpu_ms: f64,
    pub io_ms: f64,
    pub cores: u32,
}

/// The models to choose from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// One job after another, on one thread.
    Sequential,
    /// An event loop on one thread, one task per job (the CPU work runs on the loop).
    Async,
    /// One OS thread per job.
    Threads,
}

/// What starting one OS thread costs, in ms (chapter 3 measures about this).
pub const THREAD_START_MS: f64 = 0.05;
/// What starting one task costs, in ms (chapter 5 measures about this).
pub const TASK_START_MS: f64 = 0.001;

/// The predicted wall time of `workload` on `model`, in ms:
///
/// - sequential: every job's CPU time and wait, one after another;
/// - async: the waits overlap, but all the CPU work shares one thread; no job
///   ends before its own CPU time and wait; plus a task start per job;
/// - threads: the waits overlap and the CPU work spreads over the cores; no
///   job ends before its own CPU time and wait; plus a thread start per job.
pub fn predict(workload: &Workload, model: Model) -> f64 {
    let Workload { jobs, cpu_ms, io_ms, cores } = *workload;
    let jobs = jobs as f64;
    let one_job = cpu_ms + io_ms;
    match model {
        Model::Sequential => jobs * one_job,
        Model::Async => one_job.max(jobs * cpu_ms) + jobs * TASK_START_MS,
        Model::Threads => one_job.max(jobs * cpu_ms / cores as f64) + jobs * THREAD_START_MS,
    }
}

/// The model with the smallest predicted wall time; on a tie, the first in
/// the order Sequential, Async, Threads (the cheapest to run).
pub fn best(workload: &Workload) -> Model {
    let mut best = Model::Sequential;
    for model in [Model::Async, Model::Threads] {
        if predict(workload, model) < predict(workload, best) {
            best = model;
        }
    }
    best
}
