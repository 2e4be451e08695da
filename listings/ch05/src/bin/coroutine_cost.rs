//! A future costs bytes and nanoseconds; a task hundreds of bytes; an OS thread kilobytes and microseconds.
//!
//!     cargo run --release -p ch05 --bin coroutine_cost -- --tasks 100000 --threads 1000

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Instant;

use support::report::{Table, metric, verdict};
use support::timing::{current_rss_bytes, summarize};

const MIB: f64 = 1024.0 * 1024.0;

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

/// The work every coroutine, task or thread does: almost nothing, so what is
/// measured is the cost of the vehicle, not of the load.
async fn double(price: u64) -> u64 {
    price * 2
}

// ANCHOR: parked_threads
/// Resident bytes per OS thread, with `threads` of them parked on a barrier.
fn parked_threads(threads: usize) -> f64 {
    let rss = current_rss_bytes();
    let barrier = Arc::new(Barrier::new(threads + 1));
    let (ready, all_ready) = mpsc::channel();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, ready) = (barrier.clone(), ready.clone());
            thread::spawn(move || {
                ready.send(()).expect("main is waiting");
                barrier.wait(); // Parked in the kernel until every thread is counted.
            })
        })
        .collect();
    all_ready.iter().take(threads).for_each(drop);
    let per_thread = current_rss_bytes().saturating_sub(rss) as f64 / threads as f64;
    barrier.wait();
    for handle in handles {
        handle.join().expect("a parked thread ends");
    }
    per_thread
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
fn per_item_ns(samples: u64, items: usize, mut sample: impl FnMut()) -> f64 {
    sample(); // Warm up: grow the heap, start the pools.
    let times: Vec<f64> = (0..samples)
        .map(|_| {
            let start = Instant::now();
            sample();
            start.elapsed().as_nanos() as f64 / items as f64
        })
        .collect();
    summarize(&times).median
}

pub fn run(args: Args) -> ExitCode {
    let (tasks, threads) = (args.tasks as usize, args.threads as usize);
    // Memory first, in a fresh process: later runs would reuse freed memory.
    let thread_rss = parked_threads(threads);
    let task_rss = parked_tasks(tasks);

    // ANCHOR: creation
    let mut cx = Context::from_waker(Waker::noop());
    let future_ns = per_item_ns(args.samples, tasks, || {
        for price in 0..tasks as u64 {
            let mut future = pin!(double(black_box(price)));
            assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(price * 2));
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let task_ns = per_item_ns(args.samples, tasks, || {
        runtime.block_on(async {
            let handles: Vec<_> = (0..tasks as u64).map(|p| tokio::spawn(double(p))).collect();
            for handle in handles {
                black_box(handle.await.expect("the task finishes"));
            }
        })
    });
    let thread_ns = per_item_ns(args.samples, threads, || {
        let handles: Vec<_> =
            (0..threads as u64).map(|price| thread::spawn(move || price * 2)).collect();
        for handle in handles {
            black_box(handle.join().expect("the thread finishes"));
        }
    });
    // ANCHOR_END: creation

    let future_bytes = size_of_val(&double(0));
    let mut table = Table::new(["one", "create, run, finish", "resident while parked"]);
    let (task_b, thread_kib) =
        (format!("{task_rss:.0} B"), format!("{:.1} KiB", thread_rss / 1024.0));
    table.row([
        "future (polled by hand)",
        &format!("{future_ns:.1} ns"),
        &format!("{future_bytes} B (its size)"),
    ]);
    table.row(["tokio task", &format!("{task_ns:.0} ns"), &task_b]);
    table.row(["OS thread", &format!("{:.1} µs", thread_ns / 1e3), &thread_kib]);
    table.print();
    let (tasks_mib, threads_mib) =
        (task_rss * tasks as f64 / MIB, thread_rss * threads as f64 / MIB);
    println!(
        "{tasks} parked tasks: {tasks_mib:.1} MiB resident; {threads} parked threads: {threads_mib:.1} MiB"
    );
    println!("each thread also reserves a 2048 KiB stack (std's default): reserved, not resident");

    metric("future_ns", future_ns, "ns");
    metric("task_ns", task_ns, "ns");
    metric("thread_us", thread_ns / 1e3, "µs");
    metric("future_bytes", future_bytes as f64, "bytes");
    metric("task_rss_bytes", task_rss, "bytes");
    metric("thread_rss_kib", thread_rss / 1024.0, "KiB");
    metric("tasks_rss_mib", tasks_mib, "MiB");
    metric("threads_rss_mib", threads_mib, "MiB");
    metric("thread_over_task_time", thread_ns / task_ns, "x");
    metric("thread_over_task_memory", thread_rss / task_rss, "x");

    let holds = future_ns < task_ns && thread_ns > 10.0 * task_ns && thread_rss > 10.0 * task_rss;
    verdict(
        "a future costs less than a task, and a thread costs over 10x a task in time and in memory",
        holds,
        &format!(
            "thread/task: {:.0}x the time, {:.0}x the resident memory",
            thread_ns / task_ns,
            thread_rss / task_rss
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
