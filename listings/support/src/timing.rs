//! Clocks for the listings: wall time, CPU time, context switches, memory,
//! and the median of repeated samples.
//!
//! Wall time says how long the reader waited; CPU time says how much of it
//! the processor spent on this program. A program that waits well has a
//! large first and a small second.
//!
//! ```
//! use std::time::Duration;
//! use support::timing;
//!
//! let ((), sample) = timing::measure(|| std::thread::sleep(Duration::from_millis(20)));
//! assert!(sample.wall >= Duration::from_millis(20));
//! assert!(sample.cpu < sample.wall); // Sleeping costs (almost) no CPU.
//! ```
//!
//! These read Linux's clocks and counters (`getrusage`, `clock_gettime`,
//! `/proc`), which is where the book's figures are measured.

use std::fmt;
use std::time::{Duration, Instant};

/// Runs `f` and returns its result with the wall-clock time it took.
///
/// ```
/// let (sum, wall) = support::timing::time(|| (1..=100u64).sum::<u64>());
/// assert_eq!(sum, 5050);
/// assert!(wall < std::time::Duration::from_secs(1));
/// ```
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let result = f();
    (result, started.elapsed())
}

/// `d` in milliseconds, as the tables and metrics print it.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(support::timing::ms(Duration::from_micros(1_500)), 1.5);
/// ```
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `d` in microseconds.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(support::timing::us(Duration::from_nanos(2_500)), 2.5);
/// ```
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The wall-clock and CPU time of one run, as [`measure`] returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Wall-clock time: how long the caller waited.
    pub wall: Duration,
    /// CPU time of the whole process (all its threads, user and system).
    pub cpu: Duration,
}

/// Runs `f` and returns its result with its wall-clock time and the CPU time
/// the whole process spent meanwhile ([`cpu_time`]), so threads `f` starts
/// count too.
///
/// ```
/// let (_, sample) = support::timing::measure(|| std::thread::sleep(std::time::Duration::from_millis(10)));
/// assert!(sample.wall.as_millis() >= 10);
/// ```
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Sample) {
    let cpu_before = cpu_time();
    let (result, wall) = time(f);
    let cpu = cpu_time().saturating_sub(cpu_before);
    (result, Sample { wall, cpu })
}

/// This process's CPU time so far: user plus system, all threads
/// (`getrusage(RUSAGE_SELF)`).
///
/// ```
/// let before = support::timing::cpu_time();
/// assert!(support::timing::cpu_time() >= before);
/// ```
pub fn cpu_time() -> Duration {
    let usage = rusage(libc::RUSAGE_SELF);
    from_timeval(usage.ru_utime) + from_timeval(usage.ru_stime)
}

/// The CPU time of this process's children that have ended and been waited
/// for, all of them together: user plus system (`getrusage(RUSAGE_CHILDREN)`).
/// A child still running is not in it yet; wait for it first.
///
/// ```
/// let before = support::timing::children_cpu_time();
/// std::process::Command::new("true").status().unwrap(); // spawned and waited for
/// assert!(support::timing::children_cpu_time() >= before);
/// ```
pub fn children_cpu_time() -> Duration {
    let usage = rusage(libc::RUSAGE_CHILDREN);
    from_timeval(usage.ru_utime) + from_timeval(usage.ru_stime)
}

/// The calling thread's CPU time so far
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`).
///
/// ```
/// let before = support::timing::thread_cpu_time();
/// let busy: u64 = (0..1_000_000u64).map(std::hint::black_box).sum();
/// assert!(support::timing::thread_cpu_time() >= before);
/// ```
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable `timespec` for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// How many times a thread or process has given up the CPU so far.
///
/// ```
/// use support::timing::thread_context_switches;
///
/// let before = thread_context_switches();
/// std::thread::sleep(std::time::Duration::from_millis(1));
/// let switches = thread_context_switches().since(before);
/// assert!(switches.voluntary >= 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextSwitches {
    /// Switches because it waited: for I/O, a lock, a sleep.
    pub voluntary: u64,
    /// Switches because the scheduler took the CPU away: its time slice ran
    /// out, or a more urgent thread needed the core.
    pub involuntary: u64,
}

impl ContextSwitches {
    /// The switches between `earlier` and `self`.
    ///
    /// ```
    /// use support::timing::ContextSwitches;
    ///
    /// let earlier = ContextSwitches { voluntary: 3, involuntary: 1 };
    /// let later = ContextSwitches { voluntary: 10, involuntary: 2 };
    /// assert_eq!(later.since(earlier), ContextSwitches { voluntary: 7, involuntary: 1 });
    /// ```
    pub fn since(&self, earlier: ContextSwitches) -> ContextSwitches {
        ContextSwitches {
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }

    /// Voluntary plus involuntary switches.
    ///
    /// ```
    /// let switches = support::timing::ContextSwitches { voluntary: 7, involuntary: 1 };
    /// assert_eq!(switches.total(), 8);
    /// ```
    pub fn total(&self) -> u64 {
        self.voluntary + self.involuntary
    }
}

/// The calling thread's context switches so far (`getrusage(RUSAGE_THREAD)`).
///
/// ```
/// let switches = support::timing::thread_context_switches();
/// println!("{} voluntary so far", switches.voluntary);
/// ```
pub fn thread_context_switches() -> ContextSwitches {
    context_switches(libc::RUSAGE_THREAD)
}

/// This process's context switches so far, all threads, including those
/// that have ended (`getrusage(RUSAGE_SELF)`).
///
/// ```
/// let process = support::timing::process_context_switches();
/// let thread = support::timing::thread_context_switches();
/// assert!(process.voluntary >= thread.voluntary);
/// ```
pub fn process_context_switches() -> ContextSwitches {
    context_switches(libc::RUSAGE_SELF)
}

/// The most memory this process has had resident at once, in bytes (the
/// `VmHWM` line of `/proc/self/status`).
///
/// Not `getrusage`'s `ru_maxrss`: Linux keeps that across `execve`, so a
/// child that re-executes a big parent would report the parent's peak
/// (getrusage(2): "resource usage metrics are preserved across an execve").
/// The kernel keeps this and [`current_rss_bytes`] in different counters: it
/// may lag the current figure by some KiB, so compare them with a margin.
///
/// ```
/// let block = vec![1u8; 32 << 20]; // Touched, so resident.
/// drop(std::hint::black_box(block));
/// assert!(support::timing::peak_rss_bytes() >= 30 << 20);
/// ```
///
/// # Panics
/// If `/proc/self/status` cannot be read or has no `VmHWM`, that is, not on Linux.
pub fn peak_rss_bytes() -> u64 {
    peak_rss_bytes_of("self")
}

/// The most memory another running process (`pid`, as `child.id()` gives
/// it) has had resident at once, in bytes: [`peak_rss_bytes`] for it.
///
/// ```
/// let mut child = std::process::Command::new("sleep").arg("1").spawn().unwrap();
/// assert!(support::timing::peak_rss_bytes_of(&child.id().to_string()) > 0);
/// child.kill().unwrap();
/// child.wait().unwrap();
/// ```
///
/// # Panics
/// If its `/proc/PID/status` cannot be read (it has ended) or has no `VmHWM`.
pub fn peak_rss_bytes_of(pid: &str) -> u64 {
    proc_kib(pid, "status", "VmHWM:") * 1024
}

/// A `Name:   123 kB` line of `/proc/PID/FILE` (`status`, `smaps_rollup`),
/// in KiB; `pid` may be `self`.
///
/// ```
/// let resident = support::timing::proc_kib("self", "status", "VmRSS:");
/// assert!(resident > 0);
/// ```
///
/// # Panics
/// If the file cannot be read (the process has ended) or lacks the line.
pub fn proc_kib(pid: &str, file: &str, name: &str) -> u64 {
    let path = format!("/proc/{pid}/{file}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("{path} has no {name} line"))
}

/// The memory this process has resident now, in bytes (the second field of
/// `/proc/self/statm`, in pages).
///
/// ```
/// let before = support::timing::current_rss_bytes();
/// let block = std::hint::black_box(vec![1u8; 16 << 20]); // Touched, so resident.
/// assert!(support::timing::current_rss_bytes() > before);
/// drop(block);
/// ```
///
/// # Panics
/// If `/proc/self/statm` cannot be read, that is, not on Linux.
pub fn current_rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm")
        .unwrap_or_else(|error| panic!("cannot read /proc/self/statm: {error}"));
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or_else(|| panic!("unexpected /proc/self/statm: {statm:?}"));
    // SAFETY: sysconf only reads a system constant.
    let page_bytes = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page_bytes as u64
}

/// The median and range of repeated measurements, as [`summarize`] returns
/// it. It displays as `median (min-max)`, with one decimal unless the format
/// asks for another precision.
///
/// ```
/// let summary = support::timing::summarize(&[12.31, 11.9, 13.0]);
/// assert_eq!(summary.to_string(), "12.3 (11.9-13.0)");
/// assert_eq!(format!("{summary:.0}"), "12 (12-13)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The middle sample; the mean of the two middle ones for an even count.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Summary {
    /// How far apart the smallest and largest samples are: `max - min`.
    ///
    /// ```
    /// assert_eq!(support::timing::summarize(&[3.0, 1.0, 2.0]).spread(), 2.0);
    /// ```
    pub fn spread(&self) -> f64 {
        self.max - self.min
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = f.precision().unwrap_or(1);
        let Summary { median, min, max } = self;
        write!(f, "{median:.digits$} ({min:.digits$}-{max:.digits$})")
    }
}

/// The median, minimum and maximum of `samples`, in any order.
///
/// ```
/// let summary = support::timing::summarize(&[4.0, 1.0, 3.0, 2.0]);
/// assert_eq!(summary.median, 2.5);
/// assert_eq!((summary.min, summary.max), (1.0, 4.0));
/// ```
///
/// # Panics
/// If `samples` is empty: there is nothing to summarize, and that is a bug
/// in the listing.
pub fn summarize(samples: &[f64]) -> Summary {
    assert!(!samples.is_empty(), "summarize: no samples to summarize");
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    };
    Summary { median, min: sorted[0], max: sorted[sorted.len() - 1] }
}

/// The `p`th percentile of `samples` (`p` from 0 to 100), by the nearest
/// rank: the smallest sample with at least `p`% of them at or below it.
///
/// ```
/// let gaps: Vec<f64> = (1..=200).map(f64::from).collect();
/// assert_eq!(support::timing::percentile(&gaps, 99.0), 198.0);
/// assert_eq!(support::timing::percentile(&gaps, 100.0), 200.0);
/// ```
///
/// # Panics
/// If `samples` is empty, as [`summarize`].
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    assert!(!samples.is_empty(), "percentile: no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (sorted.len() as f64 * p / 100.0).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: `rusage` is plain data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the call to fill.
    let status = unsafe { libc::getrusage(who, &mut usage) };
    assert_eq!(status, 0, "getrusage({who}) failed");
    usage
}

fn context_switches(who: libc::c_int) -> ContextSwitches {
    let usage = rusage(who);
    ContextSwitches { voluntary: usage.ru_nvcsw as u64, involuntary: usage.ru_nivcsw as u64 }
}

fn from_timeval(time: libc::timeval) -> Duration {
    Duration::new(time.tv_sec as u64, time.tv_usec as u32 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins until this thread has used `cpu` of CPU time, or gives up
    /// after `patience` of wall time; returns whether it got there.
    fn spin_for(cpu: Duration, patience: Duration) -> bool {
        let (start, started) = (thread_cpu_time(), Instant::now());
        while started.elapsed() < patience {
            std::hint::black_box((0..1_000u64).sum::<u64>());
            if thread_cpu_time() - start >= cpu {
                return true;
            }
        }
        false
    }

    #[test]
    fn a_busy_loop_accrues_cpu_time_and_a_sleep_almost_none() {
        let before = (thread_cpu_time(), cpu_time());
        assert!(spin_for(Duration::from_millis(50), Duration::from_secs(10)));
        assert!(cpu_time() - before.1 >= Duration::from_millis(50));

        let (before, started) = (thread_cpu_time(), Instant::now());
        std::thread::sleep(Duration::from_millis(200));
        let (cpu, wall) = (thread_cpu_time() - before, started.elapsed());
        assert!(cpu * 10 < wall, "{cpu:?} of CPU in {wall:?} of sleep");
    }

    #[test]
    fn measure_counts_the_cpu_time_of_other_threads() {
        let ((), sample) = measure(|| {
            let spinner = || spin_for(Duration::from_millis(30), Duration::from_secs(10));
            assert!(std::thread::spawn(spinner).join().unwrap());
        });
        assert!(sample.cpu >= Duration::from_millis(30), "{sample:?}");
    }

    #[test]
    fn a_sleep_adds_voluntary_context_switches() {
        let before = thread_context_switches();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let switches = thread_context_switches().since(before);
        assert!(switches.voluntary >= 3, "{switches:?}");
        assert!(process_context_switches().voluntary >= switches.voluntary);
    }

    #[test]
    fn resident_memory_grows_with_touched_memory() {
        let before = current_rss_bytes();
        let block = std::hint::black_box(vec![7u8; 64 << 20]);
        let after = current_rss_bytes();
        assert!(after >= before + (32 << 20), "{before} -> {after}");
        // The peak's counter may lag the current one by some KiB.
        let peak = peak_rss_bytes();
        assert!(peak + (4 << 20) >= after, "peak {peak} < current {after}");
        drop(block);
    }

    fn check(samples: &[f64], expected: &str) {
        assert_eq!(summarize(samples).to_string(), expected);
    }

    #[test]
    fn summarize_takes_the_middle_of_odd_and_even_counts() {
        check(&[5.0], "5.0 (5.0-5.0)");
        check(&[3.0, 1.0, 2.0], "2.0 (1.0-3.0)");
        check(&[4.0, 1.0, 3.0, 2.0], "2.5 (1.0-4.0)");
        check(&[10.0, 30.0], "20.0 (10.0-30.0)");
        check(&[12.3, 11.9, 13.0, 12.1, 12.9], "12.3 (11.9-13.0)");
        assert_eq!(summarize(&[2.0, 9.5, 4.0]).spread(), 7.5);
    }

    #[test]
    fn summarize_refuses_no_samples_with_a_clear_message() {
        let panic = std::panic::catch_unwind(|| summarize(&[])).unwrap_err();
        let message = match panic.downcast_ref::<&str>() {
            Some(message) => message.to_string(),
            None => panic.downcast_ref::<String>().cloned().unwrap_or_default(),
        };
        assert_eq!(message, "summarize: no samples to summarize");
    }
}
