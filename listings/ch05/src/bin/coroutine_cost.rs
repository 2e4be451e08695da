//! A future costs bytes and nanoseconds; a task, hundreds of bytes; a thread, KiB and microseconds.
//!
//!     cargo run --release -p ch05 --bin coroutine_cost -- --tasks 100000 --threads 1000

use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;

use support::report::{Table, figure, verdict};
use support::timing::{current_rss_bytes, summarize, time};

/// Create and finish futures, tokio tasks and OS threads; count the memory of parked ones.
#[derive(clap::Parser)]
pub struct Args {
    /// How many futures, and how many tokio tasks, to create per sample and to park at once.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1_000..=1_000_000))]
    tasks: u64,
    /// How many OS threads to spawn per sample and to park at once.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    threads: u64,
    /// Timing samples per row; each row reports the median.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    samples: u64,
}

// ANCHOR: creation
/// The work every coroutine, task or thread does: almost nothing, so what is
/// measured is the cost of the vehicle, not of the load.
async fn double(price: u64) -> u64 {
    price * 2
}

/// Creates, runs and finishes `count` futures, each polled once by hand.
fn run_futures(count: u64) {
    let mut cx = Context::from_waker(Waker::noop());
    for price in 0..count {
        let mut future = pin!(double(black_box(price)));
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(price * 2));
    }
}

/// The same work as `count` tokio tasks, spawned and joined.
fn run_tasks(runtime: &tokio::runtime::Runtime, count: u64) {
    runtime.block_on(async {
        let handles: Vec<_> = (0..count).map(|price| tokio::spawn(double(price))).collect();
        for handle in handles {
            black_box(handle.await.expect("the task finishes"));
        }
    })
}

/// The same work on `count` OS threads, spawned and joined.
fn run_threads(count: u64) {
    let handles: Vec<_> = (0..count).map(|price| thread::spawn(move || price * 2)).collect();
    for handle in handles {
        black_box(handle.join().expect("the thread finishes"));
    }
}
// ANCHOR_END: creation

// ANCHOR: parked_threads
/// Resident bytes per OS thread, with `threads` of them parked on a barrier.
fn parked_threads(threads: usize) -> f64 {
    let (rss, gate) = (current_rss_bytes(), Barrier::new(threads + 1));
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                gate.wait(); // Started: every thread has touched its stack.
                gate.wait(); // Parked in the kernel until every thread is counted.
            });
        }
        gate.wait();
        let per_thread = current_rss_bytes().saturating_sub(rss) as f64 / threads as f64;
        gate.wait();
        per_thread
    })
}
// ANCHOR_END: parked_threads

// ANCHOR: parked_tasks
/// Resident bytes per tokio task, with `tasks` of them parked on a signal.
fn parked_tasks(tasks: usize) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let (release, signal) = tokio::sync::watch::channel(false);
        let parked = Arc::new(AtomicUsize::new(0));
        let rss = current_rss_bytes();
        for _ in 0..tasks {
            let (mut signal, parked) = (signal.clone(), parked.clone());
            tokio::spawn(async move {
                parked.fetch_add(1, Ordering::Relaxed);
                signal.changed().await // Parks: the task waits in the channel's waker list.
            });
        }
        // Give the tasks the thread until every one of them has reached its `.await`.
        while parked.load(Ordering::Relaxed) < tasks {
            tokio::task::yield_now().await;
        }
        let per_task = current_rss_bytes().saturating_sub(rss) as f64 / tasks as f64;
        release.send(true).expect("the tasks are listening");
        per_task
    })
}
// ANCHOR_END: parked_tasks

/// Median nanoseconds per item of `sample`, which creates and finishes `items` items.
fn median_ns(samples: u64, items: u64, mut sample: impl FnMut()) -> f64 {
    sample(); // Warm up: grow the heap, start the pools.
    let times: Vec<f64> =
        (0..samples).map(|_| time(&mut sample).1.as_nanos() as f64 / items as f64).collect();
    summarize(&times).median
}

pub fn run(args: Args) -> std::process::ExitCode {
    let (tasks, threads, n) = (args.tasks, args.threads, args.samples);
    // Memory first, in a fresh process: later runs would reuse freed memory.
    let thread_rss = figure("thread_rss_kib", parked_threads(threads as usize) / 1024.0, "KiB");
    let task_rss = figure("task_rss_bytes", parked_tasks(tasks as usize), "bytes");
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let future_ns = figure("future_ns", median_ns(n, tasks, || run_futures(tasks)), "ns");
    let task_ns = figure("task_ns", median_ns(n, tasks, || run_tasks(&runtime, tasks)), "ns");
    let thread_us = figure("thread_us", median_ns(n, threads, || run_threads(threads)) / 1e3, "µs");
    let future_bytes = figure("future_bytes", size_of_val(&double(0)) as f64, "bytes");
    let tasks_mib = figure("tasks_rss_mib", task_rss.value * tasks as f64 / 1048576.0, "MiB");
    let threads_mib = figure("threads_rss_mib", thread_rss.value * threads as f64 / 1024.0, "MiB");
    let time_x = figure("thread_over_task_time", thread_us.value * 1e3 / task_ns.value, "x");
    let memory_x = thread_rss.value * 1024.0 / task_rss.value;
    let memory_x = figure("thread_over_task_memory", memory_x, "x");
    let mut table = Table::new(["one", "create, run, finish", "resident while parked"]);
    table.cells(&format!("future (polled by hand)|{future_ns:.1}|{future_bytes} (its size)"));
    table.cells(&format!("tokio task|{task_ns:.0}|{task_rss:.0}"));
    table.cells(&format!("OS thread|{thread_us:.1}|{thread_rss:.1}"));
    table.print();
    println!("{tasks} parked tasks: {tasks_mib:.1} resident; {threads} threads: {threads_mib:.1}");
    println!("each thread also reserves a 2048 KiB stack (std's default): reserved, not resident");
    verdict(
        "a future costs less than a task, and a thread costs over 10x a task in time and in memory",
        future_ns.value < task_ns.value && time_x.value > 10.0 && memory_x.value > 10.0,
        &format!("thread/task: {time_x:.0} the time, {memory_x:.0} the resident memory"),
    )
}

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
