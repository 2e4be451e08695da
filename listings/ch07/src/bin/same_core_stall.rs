//! A blocking call on another thread frees the loop only if the loop's thread gets a CPU meanwhile.
//!
//!     cargo run --release -p ch07 --bin same_core_stall -- --file-mib 32

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::report::{Table, figure, skipped, verdict};
use support::timing::{ms, percentile, time};

/// Pin the loop's thread and a blocking thread to cores, and watch the loop's heartbeat.
#[derive(clap::Parser)]
pub struct Args {
    /// The size of the file each blocking call reads, in MiB.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    file_mib: u64,
    /// How many reads (or spins) per case.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    calls: u64,
}

// ANCHOR: pinned
/// The CPUs this process may run on: its affinity mask, as `taskset -p` shows it.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed `cpu_set_t` is a valid (empty) set, which the kernel fills in.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set);
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| libc::CPU_ISSET(cpu, &set)).collect()
    }
}

/// Pins the calling thread to one CPU, as `taskset` does.
fn pin_to(cpu: usize) {
    // SAFETY: a zeroed `cpu_set_t` is a valid (empty) set; the call only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let status = libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(status, 0, "sched_setaffinity({cpu}) failed");
    }
}

/// The loop's thread on CPU `on[0]` with a heartbeat; the blocking calls on `on[1]`.
/// `read` reads the whole file (the kernel copies it in one system call);
/// otherwise the blocking thread spins in user space for as long.
fn heartbeat_on(on: [usize; 2], read: bool, path: PathBuf, spin: Duration, calls: u64) -> Vec<f64> {
    // The loop gets a thread of its own, so that the pin ends with it.
    let loop_thread = std::thread::spawn(move || {
        pin_to(on[0]);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let heartbeat = ch07::heartbeat::Heartbeat::start(Duration::from_millis(5));
            for _ in 0..calls {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    pin_to(on[1]);
                    if read {
                        std::hint::black_box(std::fs::read(path).expect("read the file"));
                    } else {
                        let started = Instant::now();
                        while started.elapsed() < spin {}
                    }
                })
                .await
                .expect("the call ends");
            }
            heartbeat.stop().await
        })
    });
    loop_thread.join().expect("the loop's thread ends")
}
// ANCHOR_END: pinned

// ANCHOR: preemption
/// The kernel's preemption model, as its build configuration and boot
/// options say (`none`, `voluntary`, `full`, `lazy`), when they can be read.
fn preemption_model() -> String {
    let boot = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    if let Some(model) = boot.split_whitespace().find_map(|o| o.strip_prefix("preempt=")) {
        return format!("{model} (boot option)");
    }
    let config = std::process::Command::new("gzip").args(["-dc", "/proc/config.gz"]).output();
    let config = config.map_or(String::new(), |out| String::from_utf8_lossy(&out.stdout).into());
    let set = |option: &str| config.lines().any(|line| line == format!("CONFIG_PREEMPT{option}=y"));
    match ["_NONE", "_VOLUNTARY", "", "_LAZY"].into_iter().find(|option| set(option)) {
        Some("") => "full (kernel configuration)".into(), // CONFIG_PREEMPT=y
        Some(option) => format!("{} (kernel configuration)", option[1..].to_lowercase()),
        None => "unknown (no /proc/config.gz)".into(),
    }
}
// ANCHOR_END: preemption

pub fn run(args: Args) -> std::process::ExitCode {
    let claim = "with the read on another core, the loop does not stall";
    // Two CPUs this process may run on, and a CPU quota (cgroup) of two or more.
    let cpus = allowed_cpus();
    if cpus.len() < 2 || std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return skipped(claim, "this listing needs two CPUs");
    }
    let [first, second] = [cpus[0], cpus[1]];
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(&file, vec![7u8; (args.file_mib as usize) << 20]).expect("write the file");
    let (_, read) = time(|| std::fs::read(&file).expect("read"));
    let read_ms = figure("read_ms", ms(read), "ms");
    let stall_ms = 5.0 + read_ms.value / 2.0; // A gap over a tick plus half a read is a stall.
    let mut table = Table::new(["blocking thread", "on", "stalls", "longest gap"]);
    let [other, same, spin] = [
        ("std::fs::read", [first, second], "another core", true, "read_other_core"),
        ("std::fs::read", [first, first], "the loop's core", true, "read_same_core"),
        ("spin in user space", [first, first], "the loop's core", false, "spin_same_core"),
    ]
    .map(|(label, on, core, is_read, name)| {
        let gaps = heartbeat_on(on, is_read, file.path().into(), read, args.calls);
        let longest = figure(&format!("{name}_longest_ms"), percentile(&gaps, 100.0), "ms");
        let stalled = gaps.iter().filter(|&&gap| gap > stall_ms).count() as f64;
        let stalled = figure(&format!("{name}_stalls"), stalled, "");
        table.cells(&format!("{label}|{core}|{stalled} of {}|{longest:.1}", args.calls));
        stalled.value as u64
    });
    table.print();
    println!("(a tick: 5 ms; a read alone: {read_ms:.0}; a stall: a gap over {stall_ms:.0} ms)");
    println!("this kernel's preemption model: {}", preemption_model());
    // Only the other-core case is checked: the same core depends on the kernel's preemption
    // model, which the page names. Half the calls is the margin for a shared machine's noise.
    let evidence =
        format!("{other} stalls on another core; {same} on the same core; {spin} next to a spin");
    verdict(claim, other <= args.calls / 2, &evidence)
}

fn main() -> std::process::ExitCode {
    run(support::cli::parse())
}
