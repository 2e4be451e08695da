//! Threads share data safely with no global lock: a lock per object, an atomic, or no sharing.
//!
//!     cargo run --release -p ch02 --bin shared_counter -- --threads 4 --views 1000000

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use support::report::{Table, figure, verdict};
use support::timing::{ms, time};

/// Count page views on several threads, three correct ways.
#[derive(clap::Parser)]
pub struct Args {
    /// Threads counting at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    threads: u64,
    /// Page views each thread counts.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    views: u64,
}

pub fn run(args: Args) -> ExitCode {
    let (threads, views) = (args.threads, args.views);
    let expected = threads * views;

    // ANCHOR: mutex
    // A lock that protects this one counter and nothing else. `Arc` (an
    // atomically counted `Rc`) lets spawned threads own a share of it.
    let page_views = Arc::new(Mutex::new(0u64));
    let with_mutex = time(|| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let page_views = Arc::clone(&page_views);
                thread::spawn(move || {
                    for _ in 0..views {
                        *page_views.lock().unwrap() += 1;
                    }
                })
            })
            .collect();
        workers.into_iter().for_each(|w| w.join().unwrap());
        *page_views.lock().unwrap()
    });
    // ANCHOR_END: mutex

    // ANCHOR: atomic
    // One atomic instruction per view, no lock. Scoped threads may borrow
    // the counter because the scope ends before it does.
    let page_views = AtomicU64::new(0);
    let with_atomic = time(|| {
        thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for _ in 0..views {
                        page_views.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        page_views.load(Ordering::Relaxed)
    });
    // ANCHOR_END: atomic

    // ANCHOR: owned
    // Nothing shared: each thread owns its count and hands it back when it
    // ends. The only synchronization is `join`.
    let owned = time(|| {
        thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope
                        .spawn(|| (0..views).fold(0u64, |count, _| std::hint::black_box(count + 1)))
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum::<u64>()
        })
    });
    // ANCHOR_END: owned

    let mut table = Table::new(["way", "total", "expected", "wall", "wall per view"]);
    let ways = [
        ("Arc<Mutex<u64>>", "mutex", with_mutex),
        ("AtomicU64", "atomic", with_atomic),
        ("one count per thread", "owned", owned),
    ];
    for (way, name, (total, wall)) in ways {
        let wall = figure(&format!("{name}_ms"), ms(wall), "ms");
        let per_view =
            figure(&format!("{name}_ns_per_view"), wall.value * 1e6 / expected as f64, "ns");
        table.cells(&format!("{way}|{total}|{expected}|{wall:.1}|{per_view:.1}"));
    }
    table.print();
    figure("expected", expected as f64, "views");

    verdict(
        "every way counts every view exactly once",
        ways.iter().all(|(_, _, (total, _))| *total == expected),
        &format!(
            "{threads} threads x {views} views: {} with a mutex, {} with an atomic, {} owned",
            with_mutex.0, with_atomic.0, owned.0
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
