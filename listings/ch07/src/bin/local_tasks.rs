//! A LocalSet runs `!Send` tasks (sharing an `Rc<RefCell<_>>`) on one thread, all of them, no `Send`.
//!
//!     cargo run --release -p ch07 --bin local_tasks -- --tasks 8 --steps 5

use std::cell::RefCell;
use std::collections::HashMap;
use std::process::ExitCode;
use std::rc::Rc;
use std::thread::{self, ThreadId};

use support::report::{Table, figure, verdict};
use tokio::task::LocalSet;

/// Local tasks and spawned tasks, each awaiting a few times, on a two-worker runtime.
#[derive(clap::Parser)]
pub struct Args {
    /// How many tasks of each kind.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    tasks: u64,
    /// How many times each task records a step and yields.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    steps: u64,
}

// ANCHOR: ledger
/// What the tasks of one thread share: the steps each took, and the threads
/// it took them on. A plain `Rc<RefCell<_>>`: no atomics, no lock.
#[derive(Default)]
struct Ledger {
    steps: u64,
    threads: HashMap<u64, Vec<ThreadId>>,
}

async fn local_task(id: u64, steps: u64, ledger: Rc<RefCell<Ledger>>) {
    for _ in 0..steps {
        {
            // The borrow ends before the await: a RefCell borrowed across an
            // await would panic when the next task borrowed it.
            let mut ledger = ledger.borrow_mut();
            ledger.steps += 1;
            ledger.threads.entry(id).or_default().push(thread::current().id());
        }
        tokio::task::yield_now().await; // Rc lives across it: the future is !Send.
    }
}
// ANCHOR_END: ledger

/// Runs the local tasks, then as many `Send` tasks with `tokio::spawn`; returns
/// the thread that ran the LocalSet, the ledger, and where the spawned tasks ran.
fn run_both(tasks: u64, steps: u64) -> (ThreadId, Ledger, Vec<ThreadId>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build();
    let runtime = runtime.expect("build the runtime");
    // ANCHOR: local_set
    // The LocalSet's tasks run where the LocalSet is driven: here, inside
    // `block_on`, on this thread, while the runtime's two workers stand by.
    let ledger = Rc::new(RefCell::new(Ledger::default()));
    let local = LocalSet::new();
    local.block_on(&runtime, async {
        let handles: Vec<_> = (0..tasks)
            .map(|id| tokio::task::spawn_local(local_task(id, steps, ledger.clone())))
            .collect();
        for handle in handles {
            handle.await.expect("a local task ends");
        }
    });
    // ANCHOR_END: local_set
    // ANCHOR: spawned
    // The same count of Send tasks through tokio::spawn, each answering with its thread.
    let spawned = runtime.block_on(async {
        let handles: Vec<_> =
            (0..tasks).map(|_| tokio::spawn(async { thread::current().id() })).collect();
        let mut threads = Vec::new();
        for handle in handles {
            threads.push(handle.await.expect("a spawned task ends"));
        }
        threads
    });
    // ANCHOR_END: spawned
    let ledger = Rc::try_unwrap(ledger).ok().expect("every task dropped its Rc").into_inner();
    (thread::current().id(), ledger, spawned)
}

pub fn run(args: Args) -> ExitCode {
    let (here, ledger, spawned) = run_both(args.tasks, args.steps);
    let local_ran = ledger.threads.len();
    let local_here = ledger.threads.values().filter(|t| t.iter().all(|id| *id == here)).count();
    let spawned_here = spawned.iter().filter(|id| **id == here).count();
    let tasks = figure("tasks", args.tasks as f64, "");
    let steps = figure("local_steps", ledger.steps as f64, "");
    let local_here = figure("local_on_one_thread", local_here as f64, "");
    let spawned_here = figure("spawned_on_that_thread", spawned_here as f64, "");
    let mut table = Table::new(["spawned with", "tasks that ran", "on the LocalSet's thread"]);
    table.cells(&format!("spawn_local|{local_ran}|{local_here}"));
    table.cells(&format!("tokio::spawn|{}|{spawned_here}", spawned.len()));
    table.print();
    println!(
        "({tasks} tasks of each kind; the local ones took {steps} steps in all, a yield after each)"
    );

    let holds = local_ran as u64 == args.tasks
        && ledger.steps == args.tasks * args.steps
        && local_here.value == tasks.value
        && spawned.len() as u64 == args.tasks
        && spawned_here.value == 0.0;
    verdict(
        "a LocalSet runs every !Send task on the thread that drives it; tokio::spawn's tasks run on workers",
        holds,
        &format!(
            "{local_here} of {tasks} local tasks, {steps} steps, all on one thread; {spawned_here} spawned tasks there"
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
