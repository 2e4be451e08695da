//! On one loop one task runs at a time, until it awaits: a CPU-bound step delays every other task.
//!
//!     cargo run --release -p ch06 --bin one_at_a_time -- --tasks 100 --cpu-step-ms 200

use std::cell::Cell;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use support::report::{Table, figure, metric, verdict};
use support::timing::summarize;

/// Count how many tasks run at once on one loop, then block it with a CPU-bound step.
#[derive(clap::Parser)]
pub struct Args {
    /// How many tasks take turns on the loop.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..=10_000))]
    tasks: u64,
    /// How long the CPU-bound step runs without an await, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(20..=5_000))]
    cpu_step_ms: u64,
}

// ANCHOR: busy
/// Keeps the CPU busy for `duration` without awaiting: a stand-in for parsing,
/// hashing or compressing in the middle of an async function.
fn busy(duration: Duration) {
    let started = Instant::now();
    while started.elapsed() < duration {
        std::hint::spin_loop();
    }
}
// ANCHOR_END: busy

pub fn run(args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let local = tokio::task::LocalSet::new(); // Tasks that stay on this thread may share an Rc.

    // ANCHOR: counter
    // Every task marks itself running, works a little, and awaits; the
    // counter records how many tasks were running at the same moment.
    let (running, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    for _ in 0..args.tasks {
        let (running, most) = (Rc::clone(&running), Rc::clone(&most));
        local.spawn_local(async move {
            for _ in 0..10 {
                running.set(running.get() + 1);
                most.set(most.get().max(running.get()));
                busy(Duration::from_micros(20));
                running.set(running.get() - 1);
                tokio::task::yield_now().await; // The only place another task may run.
            }
        });
    }
    runtime.block_on(local); // Runs the tasks until every one has finished.
    // ANCHOR_END: counter

    // ANCHOR: blocking_step
    // A ticker wants to run every 10 ms. Meanwhile another task does a
    // CPU-bound step, with or without awaits inside it.
    let step = Duration::from_millis(args.cpu_step_ms);
    let worst_delay = |cpu_step: Option<u32>| {
        runtime.block_on(async {
            let ticker = tokio::spawn(async move {
                let (mut worst, mut next) = (Duration::ZERO, Instant::now());
                for _ in 0..(2 * step.as_millis() / 10) {
                    next += Duration::from_millis(10);
                    tokio::time::sleep_until(next.into()).await;
                    worst = worst.max(next.elapsed()); // How late this tick ran.
                }
                worst
            });
            tokio::time::sleep(step / 4).await;
            match cpu_step {
                None => {}
                Some(1) => busy(step), // One piece: no await until it is done.
                Some(pieces) => {
                    for _ in 0..pieces {
                        busy(step / pieces);
                        tokio::task::yield_now().await; // Let the others run.
                    }
                }
            }
            ticker.await.expect("the ticker finished")
        })
    };
    // A busy machine can stall any thread now and then: each case is timed three times.
    let median_delay = |cpu_step| {
        summarize(&(0..3).map(|_| worst_delay(cpu_step).as_secs_f64() * 1e3).collect::<Vec<_>>())
    };
    let pieces = (args.cpu_step_ms / 2) as u32; // About 2 ms each
    let idle = median_delay(None);
    let blocked = median_delay(Some(1));
    let shared = median_delay(Some(pieces));
    // ANCHOR_END: blocking_step

    let mut table = Table::new(["the other task", "worst ticker delay, median (min-max)"]);
    let step = args.cpu_step_ms as f64;
    for (name, case, delay) in [
        ("idle", "sleeps (no CPU step)".to_string(), &idle),
        ("blocked", format!("{step:.0} ms CPU step, no await"), &blocked),
        ("pieces", format!("same step in {pieces} pieces, awaits between"), &shared),
    ] {
        metric(&format!("delay_{name}_ms"), delay.median, "ms");
        table.cells(&format!("{case}|{delay:.1} ms"));
    }
    table.print();
    let most = figure("max_running", most.get() as f64, "");
    // Other programs only add delay, never remove it: the claim rests on the least of three runs.
    let late = format!("delayed the ticker {:.0} ms, in pieces {:.1} ms", blocked.min, shared.min);
    verdict(
        "one loop runs one task at a time: a CPU-bound step without await delays all the others",
        most.value == 1.0 && blocked.min > 0.8 * step && shared.min < 0.5 * step,
        &format!("at most {most} running; a {step:.0} ms step {late}, at least"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
