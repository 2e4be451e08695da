//! Threads counting apart beat shared atomics; padding shows what a shared cache line adds.
//!
//!     cargo run --release -p ch03 --bin false_sharing -- --threads 2 --adds 4000000

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use support::report::{Table, figure, verdict};

/// Count per symbol from several threads: eight counters packed, padded, or per thread.
#[derive(clap::Parser)]
pub struct Args {
    /// Threads counting at once (at most 8: one symbol each in the first pattern).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(2..=8))]
    threads: u64,
    /// Additions each thread makes.
    #[arg(long, default_value_t = 4_000_000, value_parser = clap::value_parser!(u64).range(1000..=1_000_000_000))]
    adds: u64,
}

// ANCHOR: layouts
/// Eight counters side by side: 64 bytes, one cache line. A core that
/// writes one of them takes the whole line from every other core.
type Packed = [AtomicU64; 8];

/// Eight counters, each alone on its line: `CachePadded` aligns each to
/// 128 bytes on x86-64 (the CPU fetches lines in pairs), so a write to one
/// takes no other counter's line.
type Padded = [crossbeam_utils::CachePadded<AtomicU64>; 8];

/// Each thread adds into `counters(symbol)`. `Relaxed` is enough: each add
/// is indivisible whatever the ordering, and nothing else is published
/// through these counters; the join makes every add visible to the reader.
fn count<'a>(
    threads: u64,
    adds: u64,
    spread: bool,
    counters: impl Fn(usize) -> &'a AtomicU64 + Sync,
) {
    thread::scope(|scope| {
        for t in 0..threads {
            let counters = &counters;
            scope.spawn(move || {
                for n in 0..adds {
                    // Its own symbol, or every symbol in turn (then threads share counters too).
                    let symbol = if spread { (t + n) % 8 } else { t } as usize;
                    counters(symbol).fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
}

/// The same counting with nothing shared: a table per thread, merged at the end.
fn count_apart(threads: u64, adds: u64, spread: bool) -> [u64; 8] {
    let tables: Vec<[u64; 8]> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut table = [0u64; 8];
                    for n in 0..adds {
                        let symbol = if spread { (t + n) % 8 } else { t } as usize;
                        table[std::hint::black_box(symbol)] += 1;
                    }
                    table
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a counting thread")).collect()
    });
    std::array::from_fn(|s| tables.iter().map(|table| table[s]).sum())
}
// ANCHOR_END: layouts

/// A layout of the counters: its label, its metric's name, and how it counts.
type Layout<'a> = (&'a str, &'a str, &'a dyn Fn(bool) -> [u64; 8]);

pub fn run(args: Args) -> ExitCode {
    let (threads, adds) = (args.threads, args.adds);
    // ANCHOR: each_layout
    // Each layout: its label, its name in the metrics, and how it counts, every
    // thread on its own symbol or on every symbol in turn (`spread`), returning
    // the eight totals once its threads are joined.
    let layouts: [Layout; 3] = [
        ("a table per thread, merged", "apart", &|spread| count_apart(threads, adds, spread)),
        ("padded atomics", "padded", &|spread| {
            let padded: Padded = Default::default();
            count(threads, adds, spread, |s| &*padded[s]);
            padded.map(|counter| counter.into_inner().into_inner())
        }),
        ("packed atomics", "packed", &|spread| {
            let packed: Packed = Default::default();
            count(threads, adds, spread, |s| &packed[s]);
            packed.map(AtomicU64::into_inner)
        }),
    ];
    // ANCHOR_END: each_layout

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut table = Table::new(["counters", "one symbol per thread", "every thread every symbol"]);
    let mut exact = true;
    // Per layout, the CPU time of all threads per addition: [own symbol, every symbol].
    let [[apart, apart_every], [padded, padded_every], [packed, _]] =
        layouts.map(|(label, name, totals_of)| {
            let costs = [("own", false), ("every", true)].map(|(pattern, spread)| {
                let (totals, spent) = support::timing::measure(|| totals_of(spread));
                exact &= totals.iter().sum::<u64>() == threads * adds;
                let ns = spent.cpu.as_nanos() as f64 / (threads * adds) as f64;
                figure(&format!("{name}_{pattern}_ns"), ns, "ns")
            });
            table.cells(&format!("{label}|{:.2} per add|{:.2} per add", costs[0], costs[1]));
            costs
        });
    table.print();
    println!("(CPU time of all threads per add: {threads} threads, {adds} each, {cores} cores)");
    // Whether a shared line costs anything depends on the machine's caches (see the page), so
    // that ratio is reported, not claimed; what holds everywhere is that an atomic add costs
    // more than a plain one, with or without another core.
    let false_sharing = figure("false_sharing_x", packed.value / padded.value, "x");
    let true_sharing = figure("true_sharing_x", padded_every.value / padded.value, "x");
    println!("packed over padded, own symbols (false sharing): {false_sharing:.2}");
    println!("padded, every symbol over own (true sharing): {true_sharing:.2}");
    verdict(
        "every layout counts exactly; a table per thread costs least, under 0.8x a padded atomic",
        exact && apart.value < 0.8 * padded.value && apart_every.value < 0.8 * padded_every.value,
        &format!("per add: {apart:.2} apart, {padded:.2} padded, {packed:.2} packed"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
