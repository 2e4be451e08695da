//! 10,000 OS threads sleeping 2-4 s each finish in about the longest sleep, in a few hundred MiB.
//!
//!     cargo run --release -p ch03 --bin ten_thousand_threads -- --threads 10000 --min-sleep-ms 2000 --max-sleep-ms 4000

use std::process::ExitCode;
use std::sync::{Arc, atomic::AtomicUsize, atomic::Ordering, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use support::report::{Table, figure, series, verdict};
use support::timing::{current_rss_bytes, ms, proc_kib};

/// Spawn one OS thread per task; each sleeps a random 2-4 s (fixed seed).
#[derive(clap::Parser)]
pub struct Args {
    /// Threads to spawn, all alive at once. Above about 16,000 this machine's
    /// per-process limit on memory maps binds (see `thread_limits`).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=15_000))]
    threads: u64,
    /// The shortest sleep, in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    min_sleep_ms: u64,
    /// The longest sleep, in milliseconds.
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    max_sleep_ms: u64,
}

pub fn run(args: Args) -> ExitCode {
    if args.min_sleep_ms > args.max_sleep_ms {
        support::cli::refuse("--min-sleep-ms must not exceed --max-sleep-ms");
    }
    // ANCHOR: spawn_all
    // The same sleeps on every run, and in the Python twin: a fixed seed.
    let (seed, min, max) = (0x2545_F491_4F6C_DD1D, args.min_sleep_ms, args.max_sleep_ms);
    let sleeps = support::random::sleeps_ms(seed, args.threads, min, max);
    let sleeps: Vec<Duration> = sleeps.into_iter().map(Duration::from_millis).collect();
    let (shortest, longest) = (*sleeps.iter().min().unwrap(), *sleeps.iter().max().unwrap());
    let rss_before = current_rss_bytes();

    // One thread per task, like a thread-per-request server. Each reports on
    // a channel when it wakes, so results arrive in the order they complete.
    let start = Instant::now();
    let (done, completions) = mpsc::channel();
    let (alive, most_alive) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut handles = Vec::with_capacity(sleeps.len());
    let mut curve = Vec::new(); // (threads alive, time since start, resident bytes)
    for (task, &sleep) in sleeps.iter().enumerate() {
        let (done, alive, most_alive) = (done.clone(), alive.clone(), most_alive.clone());
        let spawned = thread::Builder::new().spawn(move || {
            let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
            most_alive.fetch_max(now, Ordering::SeqCst);
            thread::sleep(sleep); // Blocks this thread only; the OS runs the others.
            alive.fetch_sub(1, Ordering::SeqCst);
            done.send(task).unwrap();
        });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                println!("spawn failed after {task} threads: {error}");
                break; // The threads already started still end and are joined below.
            }
        }
        if on_the_curve(handles.len(), sleeps.len()) {
            curve.push((handles.len(), start.elapsed(), current_rss_bytes()));
        }
    }
    let spawned_in = start.elapsed();
    drop(done);
    // Weigh them once all are asleep (none wakes before the shortest sleep).
    while alive.load(Ordering::SeqCst) < handles.len() && start.elapsed() < shortest {
        thread::sleep(Duration::from_millis(1));
    }
    let resident = current_rss_bytes() - rss_before;
    let reserved = proc_kib("self", "status", "VmSize:") * 1024; // Address space, touched or not.
    let finished = completions.iter().count(); // Ends when every thread has sent.
    let wall = start.elapsed();
    handles.into_iter().for_each(|handle| handle.join().unwrap());
    // ANCHOR_END: spawn_all

    let most_alive = most_alive.load(Ordering::SeqCst) as f64;
    let (mib, secs) = (|bytes: u64| bytes as f64 / (1 << 20) as f64, |d: Duration| d.as_secs_f64());
    let longest = figure("longest_sleep_s", secs(longest), "s");
    let wall = figure("wall_s", secs(wall), "s");
    let mut table = Table::new([format!("{} sleeping threads", args.threads), "".into()]);
    for (label, value) in [
        ("longest sleep", longest),
        ("wall, first spawn to last wake", wall),
        ("wall - longest sleep", figure("overhead_ms", (wall.value - longest.value) * 1e3, "ms")),
        ("to spawn them all", figure("spawn_all_ms", ms(spawned_in), "ms")),
        ("at most alive at once", figure("most_alive", most_alive, "")),
        ("one after another", figure("sequential_s", secs(sleeps.iter().sum()), "s")),
        ("resident, all alive", figure("resident_mib", mib(resident), "MiB")),
        ("resident each", figure("rss_each_kib", mib(resident) * 1024.0 / most_alive, "KiB")),
        ("address space reserved", figure("reserved_gib", mib(reserved) / 1024.0, "GiB")),
    ] {
        table.cells(&format!("{label}|{value}"));
    }
    table.print();
    // How memory and start-up time grow with the number of threads alive
    // (none wakes while they are being started): chapter 6 draws the same for tasks.
    let by_rss: Vec<_> =
        curve.iter().map(|&(n, _, rss)| (n as f64, mib(rss) - mib(rss_before))).collect();
    let by_time: Vec<_> = curve.iter().map(|&(n, at, _)| (n as f64, ms(at))).collect();
    series("rss_mib_by_threads", "threads alive", "MiB", &by_rss);
    series("spawn_ms_by_threads", "threads alive", "ms", &by_time);

    // They all sleep at once: the wall time is the longest sleep plus the
    // time it took to start them all, with half a second for a busy machine.
    let holds = finished as u64 == args.threads
        && most_alive as u64 == args.threads
        && wall.value >= longest.value
        && wall.value <= longest.value + secs(spawned_in) + 0.5;
    let threads = args.threads;
    verdict(
        &format!(
            "{threads} threads sleeping {min}-{max} ms finish in about the longest sleep, all alive at once"
        ),
        holds,
        &format!("{finished} done in {wall:.2}, longest {longest:.2}, {most_alive} alive at once"),
    )
}

/// Whether the figure samples memory and time after `started` threads: at
/// 10, 20, 50, 100, 200, 500, ... (three points a decade) and at the last.
fn on_the_curve(started: usize, total: usize) -> bool {
    let decade = 10usize.pow(started.max(1).ilog10());
    started == total || (started >= 10 && [decade, 2 * decade, 5 * decade].contains(&started))
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
