//! The thread ceiling is a kernel limit, not a rule of thumb; the first to bind here allows >10000.
//!
//!     cargo run --release -p ch03 --bin thread_limits -- --sample 1000

use std::process::ExitCode;
use std::sync::Barrier;

use support::report::{Table, figure, verdict};

/// Read every limit on the number of threads and compute which binds first.
#[derive(clap::Parser)]
pub struct Args {
    /// Threads kept alive to measure what each one takes from every limit.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=10_000))]
    sample: u64,
}

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: per_thread
    // What one more thread takes, measured on `sample` parked threads: a task (a pid), memory
    // maps (lines of /proc/self/maps), resident memory, and address space, touched or not (VmSize).
    let maps = || std::fs::read_to_string("/proc/self/maps").unwrap().lines().count() as f64;
    let status = |name: &str| field("/proc/self/status", name, 1); // In KiB.
    let n = args.sample as usize;
    let before = (maps(), status("VmRSS:"), status("VmSize:"));
    let (started, release) = (&Barrier::new(n + 1), &Barrier::new(n + 1));
    let (maps_each, rss_kib, reserved_kib) = std::thread::scope(|scope| {
        for _ in 0..n {
            scope.spawn(|| {
                started.wait(); // Alive: its stack and maps are in place.
                release.wait();
            });
        }
        started.wait();
        let maps_each = (maps() - before.0) / n as f64;
        let rss_kib = (status("VmRSS:") - before.1) / n as f64;
        let reserved_kib = (status("VmSize:") - before.2) / n as f64;
        release.wait();
        (maps_each, rss_kib, reserved_kib)
    });
    // ANCHOR_END: per_thread

    // ANCHOR: limits
    // Tasks (processes and threads) running on the whole machine now.
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap(); // "0.01 0.02 0.00 3/112 999"
    let tasks: f64 = loadavg.split(['/', ' ']).nth(4).unwrap().parse().unwrap();
    let sys = |name: &str| field(&format!("/proc/sys/{name}"), "", 0);
    let (threads_max, pid_max) = (sys("kernel/threads-max"), sys("kernel/pid_max"));
    let map_max = sys("vm/max_map_count");
    let nproc = field("/proc/self/limits", "Max processes", 2);
    // SAFETY: geteuid only reads this process's user id.
    let root = unsafe { libc::geteuid() } == 0; // RLIMIT_NPROC does not apply to root.
    let (pids_max, pids_now) = cgroup_pids();
    let mem = |name: &str| field("/proc/meminfo", name, 1) / 1024.0; // In MiB.
    let (total, available) = (mem("MemTotal:"), mem("MemAvailable:"));
    let strict = sys("vm/overcommit_memory") == 2.0; // 0 and 1 do not enforce CommitLimit.
    let (commit_limit, committed) = (mem("CommitLimit:"), mem("Committed_AS:"));
    // Each limit: name, value, in use now, more threads it allows (None: not enforced), shared by.
    #[rustfmt::skip] // One limit per line, read as a table.
    let mut limits = vec![
        ("kernel.threads-max", threads_max, tasks, Some(threads_max - tasks), "machine"),
        ("kernel.pid_max", pid_max, tasks, Some(pid_max - tasks), "machine"),
        ("RLIMIT_NPROC (ulimit -u)", nproc, f64::NAN, (!root).then_some(nproc), "user"),
        ("cgroup pids.max", pids_max, pids_now, pids_max.is_finite().then_some(pids_max - pids_now), "cgroup"),
        ("vm.max_map_count", map_max, maps(), Some((map_max - maps()) / maps_each), "process"),
        ("memory, MiB", total, total - available, Some(available * 1024.0 / rss_kib), "machine"),
        ("CommitLimit, MiB", commit_limit, committed, strict.then_some((commit_limit - committed) * 1024.0 / reserved_kib), "machine"),
    ];
    // The limit that allows the fewest more threads binds first.
    limits.sort_by(|a, b| a.3.unwrap_or(f64::MAX).total_cmp(&b.3.unwrap_or(f64::MAX)));
    // ANCHOR_END: limits

    println!(
        "one more thread takes 1 task, {maps_each:.1} memory maps, {rss_kib:.1} KiB resident, {reserved_kib:.0} KiB of address space (stack, guard pages, malloc arenas)"
    );
    let cell = |v: f64| if v.is_finite() { format!("{v:.0}") } else { "-".into() };
    let mut table = Table::new(["limit", "value", "in use", "threads it allows", "shared by"]);
    for &(name, value, used, allows, who) in &limits {
        let allows = allows.map_or("not enforced".into(), cell);
        table.cells(&format!("{name}|{}|{}|{allows}|{who}", cell(value), cell(used)));
    }
    table.print();
    figure("maps_per_thread", maps_each, "maps");
    figure("max_map_count", map_max, "maps");
    figure("pid_max", pid_max, "pids");
    figure("tasks_in_use", tasks, "tasks");
    let (name, .., allows, who) = limits[0];
    let ceiling = figure("ceiling", allows.unwrap_or(f64::INFINITY), "threads");
    figure("map_limit_binds", f64::from(u8::from(name == "vm.max_map_count")), "");
    let claim = "the limit that binds first allows more than 10,000 threads";
    let evidence = format!("{name} binds first, shared by the {who}: {ceiling:#.0} more threads");
    verdict(claim, ceiling.value > 10_000.0, &evidence)
}

// ANCHOR: field
/// Field `n` of the first line of `path` that starts with `prefix`: infinite
/// for "unlimited" or "max", NaN if the file or the line is not there.
fn field(path: &str, prefix: &str, n: usize) -> f64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let line = text.lines().find(|line| line.starts_with(prefix));
    match line.and_then(|line| line.split_whitespace().nth(n)) {
        Some("unlimited" | "max") => f64::INFINITY,
        value => value.and_then(|v| v.parse().ok()).unwrap_or(f64::NAN),
    }
}
// ANCHOR_END: field

// ANCHOR: cgroup
/// This process's cgroup (v2) `pids.max`, infinite when unlimited, and `pids.current`.
fn cgroup_pids() -> (f64, f64) {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path = cgroup.lines().find_map(|line| line.strip_prefix("0::")).unwrap_or("/");
    let pids = |file: &str| field(&format!("/sys/fs/cgroup{path}/pids.{file}"), "", 0);
    let max = pids("max"); // Infinite for "max"; NaN if the cgroup has no such file.
    (if max.is_nan() { f64::INFINITY } else { max }, pids("current"))
}
// ANCHOR_END: cgroup

fn main() -> ExitCode {
    run(support::cli::parse())
}
