//! One thread at a time runs interpreted work, in fair turns of at least one switch interval.
//!
//!     cargo run --release -p ch02 --bin interpreter_lock -- --threads 2 --switch-ms 5

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use ch02::interpreter_lock::InterpreterLock;
use support::report::{Table, figure, series, verdict};
use support::timing::{ms, summarize, thread_cpu_time};

/// Let CPU-bound threads share the interpreter lock and watch them take turns.
#[derive(clap::Parser)]
pub struct Args {
    /// CPU-bound threads sharing the lock.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=8))]
    threads: u64,
    /// The switch interval, in milliseconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    switch_ms: u64,
    /// CPU time each thread spends on interpreted work, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    work_ms: u64,
}

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: take_turns
    let lock = InterpreterLock::new(Duration::from_millis(args.switch_ms));
    let units = ch02::work::units_for(Duration::from_millis(args.work_ms));
    // Each thread runs its units of work under the lock, checking between
    // two units whether another thread asked for it. `running` counts the
    // threads inside a unit of work right now; it must never exceed one.
    // Each thread also notes when each of its turns began and ended.
    let (running, most_running) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.threads)
            .map(|seed| {
                let (lock, running, most_running) = (&lock, &running, &most_running);
                scope.spawn(move || {
                    let (cpu, mut turns, mut spans) = (thread_cpu_time(), Vec::new(), Vec::new());
                    let mut interpreter = lock.acquire();
                    let mut turn_began = Instant::now();
                    for unit in 0..units {
                        let before = Instant::now();
                        if interpreter.checkpoint() {
                            // (how long the turn lasted, how long the wait for the next one),
                            // then (when the turn began, when it ended) since the start
                            turns.push((ms(before - turn_began), ms(before.elapsed())));
                            spans.push((ms(turn_began - started), ms(before - started)));
                            turn_began = Instant::now();
                        }
                        most_running.fetch_max(running.fetch_add(1, Relaxed) + 1, Relaxed);
                        std::hint::black_box(ch02::work::run_bytecodes(1000, seed ^ unit));
                        running.fetch_sub(1, Relaxed);
                    }
                    // The last turn ends when `interpreter` is dropped, just below.
                    spans.push((ms(turn_began - started), ms(started.elapsed())));
                    // What this thread saw: its turns, their spans, and its CPU time.
                    (turns, spans, thread_cpu_time() - cpu)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    // ANCHOR_END: take_turns
    let wall = ms(started.elapsed());

    let mut table = Table::new(["thread", "turns handed over", "CPU"]);
    for (i, (turns, _, cpu)) in threads.iter().enumerate() {
        table.cells(&format!("{}|{}|{:.0} ms", i + 1, turns.len(), ms(*cpu)));
    }
    table.print();
    let cpu = ms(threads.iter().map(|t| t.2).sum());
    let stats = lock.stats();
    let handovers = figure("handovers", stats.handovers as f64, "");
    let transit = 1e3 * ms(stats.in_transit) / stats.handovers.max(1) as f64;
    let transit = figure("handover_us", transit, "µs");
    println!("\n{wall:.0} ms wall, {cpu:.0} ms CPU; {handovers} hand-overs, {transit:.0} each");

    // The book's timeline of the first twenty switch intervals: which thread
    // held the lock, from when to when. Consecutive turns are joined by a
    // step from the old holder to the new one at the hand-over.
    let window = 20.0 * args.switch_ms as f64;
    let mut held = Vec::new(); // (from, to, thread), in ms since the start
    for (i, (_, spans, _)) in threads.iter().enumerate() {
        let in_window = spans.iter().filter(|(from, _)| *from < window);
        held.extend(in_window.map(|&(from, to)| (from, to.min(window), (i + 1) as f64)));
    }
    held.sort_by(|a, b| a.0.total_cmp(&b.0));
    let holder: Vec<_> =
        held.iter().flat_map(|&(from, to, thread)| [(from, thread), (to, thread)]).collect();
    series("holder", "ms since start", "thread holding the lock", &holder);

    // A turn lasts at least one interval: the waiter's timer sees to that.
    // It can last longer: the waiter must itself get a CPU to ask, and on a
    // busy machine that takes a scheduler slice or two, so the check for
    // fairness compares waits with turns, which stretch together.
    let (turns, waits): (Vec<f64>, Vec<f64>) = threads.iter().flat_map(|t| t.0.clone()).unzip();
    let median = |v: &[f64]| if v.is_empty() { 0.0 } else { summarize(v).median };
    let most = figure("most_running", most_running.load(Relaxed) as f64, "");
    let turn = figure("median_turn_ms", median(&turns), "ms");
    let wait = figure("median_wait_ms", median(&waits), "ms");
    let (interval, others) = (args.switch_ms as f64, (args.threads - 1) as f64);
    let fewest_turns = threads.iter().map(|t| t.0.len()).min().unwrap_or(0);
    let takes_turns = fewest_turns >= 3
        && turn.value >= 0.8 * interval
        && (0.5 * others * turn.value..=2.0 * others * turn.value).contains(&wait.value);
    let claim = "one thread runs at a time; turns last at least a switch interval, and each thread waits about one turn per other thread";
    let evidence = format!(
        "at most {most} running; median turn {turn:.1} (interval {interval:.0} ms), median wait {wait:.1}, fewest turns {fewest_turns}"
    );
    verdict(claim, most.value == 1.0 && (args.threads == 1 || takes_turns), &evidence)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
