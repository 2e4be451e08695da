//! OS threads are preempted: threads that spin and never wait do not stop another on the same core.
//!
//!     cargo run --release -p ch03 --bin preemption -- --spin-ms 1000 --tick-ms 10

use std::hint::black_box;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use support::report::{Table, figure, verdict};
use support::timing::{ms, summarize, thread_context_switches, thread_cpu_time};

/// Two spinning threads and a ticking one, all pinned to the same core.
#[derive(clap::Parser)]
pub struct Args {
    /// How long the spinners spin, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    spin_ms: u64,
    /// The ticker's period, in milliseconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    tick_ms: u64,
    /// Spinning threads sharing the ticker's core.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    spinners: u64,
}

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: spin_and_tick
    // All of them go on the core this thread happens to run on now.
    // SAFETY: sched_getcpu only reads which core the caller is running on.
    let core = unsafe { libc::sched_getcpu() }.max(0) as usize;
    let (stop, tick) = (AtomicBool::new(false), Duration::from_millis(args.tick_ms));
    let (spinners, gaps) = thread::scope(|scope| {
        // Spinners: pure arithmetic, never a wait, never a system call. If
        // threads were cooperative, nothing else could run on their core.
        let spinners: Vec<_> = (0..args.spinners)
            .map(|_| {
                scope.spawn(|| {
                    pin_to(core);
                    let (before, cpu, mut price) =
                        (thread_context_switches(), thread_cpu_time(), 1u64);
                    while !stop.load(Ordering::Relaxed) {
                        price = black_box(price.wrapping_mul(6364136223846793005).wrapping_add(1));
                    }
                    (thread_cpu_time() - cpu, thread_context_switches().since(before))
                })
            })
            .collect();
        // The ticker: sleeps one period, notes when it woke, again and again.
        let ticker = scope.spawn(|| {
            pin_to(core);
            let mut last = Instant::now();
            let mut gaps = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(tick);
                gaps.push(last.elapsed().as_secs_f64() * 1e3);
                last = Instant::now();
            }
            gaps
        });
        thread::sleep(Duration::from_millis(args.spin_ms)); // Main runs on any core.
        stop.store(true, Ordering::Relaxed);
        let spinners: Vec<_> = spinners.into_iter().map(|s| s.join().unwrap()).collect();
        (spinners, ticker.join().unwrap())
    });
    // ANCHOR_END: spin_and_tick

    let wall = args.spin_ms as f64;
    let mut table = Table::new(["thread on core", "CPU time", "share", "waited", "preempted"]);
    let mut holds = true;
    for (n, (cpu, switches)) in (1..).zip(&spinners) {
        let share = figure(&format!("spinner{n}_share_pct"), 100.0 * ms(*cpu) / wall, "%");
        let waited = switches.voluntary;
        let preempted =
            figure(&format!("spinner{n}_preempted"), switches.involuntary as f64, "switches");
        table.cells(&format!("spinner {n}|{:.0} ms|{share:.0}|{waited}|{preempted:#}", ms(*cpu)));
        // A spinner never waits, yet is taken off the core again and again.
        holds &= share.value > 5.0 && waited <= 2 && preempted.value >= 10.0;
    }
    table.print();
    let ticks = figure("ticks", gaps.len() as f64, "ticks");
    let expected = figure("expected_ticks", wall / args.tick_ms as f64, "ticks");
    let gap = summarize(&gaps);
    figure("median_gap_ms", gap.median, "ms");
    let max_gap = figure("max_gap_ms", gap.max, "ms");
    let tick_ms = args.tick_ms;
    println!(
        "ticker on the same core: {ticks} of {tick_ms} ms in {wall:.0} ms (about {expected:.0} expected); gap between ticks {gap:.1} ms"
    );

    // The ticker keeps ticking: at least half its ticks, and never shut out for
    // long (a third of the run, or 100 ms). Other programs share the core too.
    holds &= ticks.value >= expected.value / 2.0 && max_gap.value < (wall / 3.0).max(100.0);
    let preempted: u64 = spinners.iter().map(|(_, s)| s.involuntary).sum();
    verdict(
        "spinning threads that never wait are preempted: a thread on their core still runs on time",
        holds,
        &format!(
            "{ticks:.0} of about {expected:.0}, longest gap {max_gap:.1}, spinners preempted {preempted} times"
        ),
    )
}

/// Pins the calling thread to one core (`sched_setaffinity`, pid 0 = this thread).
fn pin_to(core: usize) {
    // SAFETY: the set is plain data, zeroed, then filled by CPU_SET.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
    }
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
