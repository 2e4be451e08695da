//! Switching from one thread to another costs microseconds: cheap, but not free.
//!
//!     cargo run --release -p ch03 --bin context_switch -- --round-trips 10000

use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use support::report::{Table, figure, verdict};
use support::timing::{summarize, thread_context_switches};

/// Hand a token back and forth between two threads and time each hand-off.
#[derive(clap::Parser)]
pub struct Args {
    /// Round trips per sample; the figure is the median of 7 samples.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=10_000_000))]
    round_trips: u64,
}

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: both_ways
    // The same ping-pong twice: both threads pinned to the core this thread
    // happens to run on now, then both free to run on any core.
    // SAFETY: sched_getcpu only reads which core the caller is running on.
    let core = unsafe { libc::sched_getcpu() }.max(0) as usize;
    let (same_ns, same_switches) = ping_pong(args.round_trips, Some(core));
    let (any_ns, any_switches) = ping_pong(args.round_trips, None);
    // ANCHOR_END: both_ways

    let switch = figure("switch_us", same_ns / 1e3, "µs");
    let per_round_trip = figure("switches_per_round_trip", same_switches, "switches");
    let any_core = figure("handoff_any_core_us", any_ns / 1e3, "µs");
    let mut table = Table::new(["two threads", "one hand-off", "peer switched out per round trip"]);
    table.cells(&format!("pinned to one core|{switch:.2}|{per_round_trip:#.2}"));
    table.cells(&format!("free to use every core|{any_core:.2}|{any_switches:.2}"));
    table.print();

    // A switch is the kernel's work: microseconds, not nanoseconds (a
    // function call) and not milliseconds (a time slice or a network wait).
    verdict(
        "a context switch between two threads costs microseconds",
        (100.0..100_000.0).contains(&same_ns) && same_switches > 0.5,
        &format!("{switch:.2} per hand-off on one core, {per_round_trip:.2} per round trip"),
    )
}

// ANCHOR: ping_pong
/// Sends a token to a peer thread and waits for it to come back, `round_trips`
/// times, 7 samples; returns the median time of one hand-off (half a round
/// trip) in ns, and how often the peer gave up its core per round trip.
///
/// Pinned to one core, a hand-off cannot run in parallel: the sender must be
/// switched out for the receiver to run, so a hand-off is a context switch.
fn ping_pong(round_trips: u64, core: Option<usize>) -> (f64, f64) {
    let (to_peer, peer_inbox) = mpsc::channel::<u64>();
    let (to_player, player_inbox) = mpsc::channel::<u64>();
    let peer = thread::spawn(move || {
        pin_to(core);
        let before = thread_context_switches();
        for token in peer_inbox {
            to_player.send(token + 1).unwrap();
        }
        thread_context_switches().since(before).total()
    });
    let player = thread::spawn(move || {
        pin_to(core);
        let samples: Vec<f64> = (0..7)
            .map(|_| {
                let start = std::time::Instant::now();
                for token in 0..round_trips {
                    to_peer.send(token).unwrap();
                    assert_eq!(player_inbox.recv().unwrap(), token + 1);
                }
                start.elapsed().as_nanos() as f64 / (2 * round_trips) as f64
            })
            .collect();
        summarize(&samples).median // Dropping `to_peer` here ends the peer's loop.
    });
    let handoff_ns = player.join().unwrap();
    let peer_switches = peer.join().unwrap() as f64 / (7 * round_trips) as f64;
    (handoff_ns, peer_switches)
}
// ANCHOR_END: ping_pong

// ANCHOR: pin
/// Pins the calling thread to `core`, if any (`sched_setaffinity`, pid 0 =
/// this thread); without one, the scheduler places it on any core.
fn pin_to(core: Option<usize>) {
    let Some(core) = core else { return };
    // SAFETY: the set is plain data, zeroed, then filled by CPU_SET.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
    }
}
// ANCHOR_END: pin

fn main() -> ExitCode {
    run(support::cli::parse())
}
