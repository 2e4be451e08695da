//! On a one-file event loop (ready queue, wakers, timers, epoll), 10,000 sleeps take the longest.
//!
//!     cargo run --release -p ch06 --bin mini_loop -- --tasks 10000 --min-ms 2000 --max-ms 4000

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ch06::mini_loop::{Tick, block_on, observe, sleep, spawn, stats};
use ch06::sleepers::collect;
use support::report::{figure, series, verdict};

/// Sleep 10,000 tasks on the mini loop, as the Python article does on asyncio.
#[derive(clap::Parser)]
pub struct Args {
    /// How many tasks to spawn.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    tasks: u64,
    /// The shortest and the longest sleep, in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    min_ms: u64,
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    max_ms: u64,
}

pub fn run(args: Args) -> ExitCode {
    let Args { tasks, min_ms, max_ms } = args;
    if min_ms > max_ms {
        support::cli::refuse(format!("--min-ms ({min_ms}) must not exceed --max-ms ({max_ms})"));
    }
    // ANCHOR: workload
    // The same sleeps every run, and in runtime_table: a fixed seed.
    let sleeps = support::random::sleeps_ms(support::random::SEED, tasks, min_ms, max_ms);
    let (started, ticks) = (Instant::now(), Rc::new(RefCell::new(Vec::new())));
    let ((finished, _, threads), stats) = block_on(async {
        let seen = Rc::clone(&ticks);
        observe(move |tick| seen.borrow_mut().push(tick)); // Each turn, for a figure.
        (collect(&sleeps, |t| spawn(sleep(t))).await, stats())
    });
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    // ANCHOR_END: workload
    let longest_ms = *sleeps.iter().max().unwrap() as f64;
    let total = figure("total_ms", total_ms, "ms");
    let longest = figure("longest_sleep_ms", longest_ms, "ms");
    let overhead = figure("overhead_ms", total_ms - longest_ms, "ms");
    let parks = figure("parks", stats.parks as f64, "waits");
    println!("{tasks} sleeps of {min_ms}-{max_ms} ms on {threads} thread(s): {total:.0} in all,");
    println!("{overhead:.1} beyond the longest sleep ({longest:.0})");
    let (polls, left) = (stats.polls, stats.live_tasks);
    println!("task polls: {polls}, waits in epoll: {parks:#}, tasks left: {left}");
    let [ready, parked] = turns_over_time(&ticks.borrow(), started, polls, total_ms);
    series("ready_by_time", "ms since the start", "tasks", &ready);
    series("parked_by_time", "ms since the start", "tasks", &parked);
    let all_back = finished == sleeps.len() && left == 0;
    verdict(
        "N sleeping tasks on one thread finish in about the longest sleep, not the sum",
        all_back && total_ms >= longest_ms && total_ms < 1.5 * longest_ms,
        &format!("{finished} tasks back in {total:.0}, longest sleep {longest:.0}"),
    )
}

/// The loop's turns in a hundred equal stretches of the run, few enough to
/// draw: per stretch, the tasks its turns ran and the tasks parked at its end.
/// The turn in which `main` returns is not observed: its polls are the ones
/// no turn reported, and they count in the last stretch.
fn turns_over_time(ticks: &[Tick], started: Instant, polls: u64, total_ms: f64) -> [Curve; 2] {
    let (mut ready, mut parked) = (vec![(0.0, 0.0)], vec![(0.0, 0.0)]);
    let (mut ticks, mut waiting, mut unreported) = (ticks.iter().peekable(), 0, polls);
    for stretch in 1..=100 {
        let end_ms = (total_ms * f64::from(stretch)).round() / 100.0; // to 0.01 ms
        let end = started + Duration::from_secs_f64(end_ms / 1e3);
        let mut ran = 0;
        while let Some(tick) = ticks.next_if(|tick| stretch == 100 || tick.at < end) {
            (ran, waiting) = (ran + tick.ran, tick.parked);
        }
        unreported -= ran;
        if stretch == 100 {
            ran += unreported;
        }
        ready.push((end_ms, ran as f64));
        parked.push((end_ms, waiting as f64));
    }
    [ready, parked]
}
type Curve = Vec<(f64, f64)>;

fn main() -> ExitCode {
    run(support::cli::parse())
}
