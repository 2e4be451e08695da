//! Running a listing: building the binaries, the program that runs each
//! listing (a binary, or a twin under the twins' Python), one run in a
//! process group of its own with a timeout, and what it reported through the
//! listing protocol (ARCHITECTURE.md, "API boundary"). Used by `measure`,
//! the quick runs and the bad-input check.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::output::{Series, Verdict};
use crate::project::{Listing, Project};

/// `$CARGO`, as cargo set it for this xtask, or `cargo`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds the binaries of `chapters` and returns each one's executable by
/// name. `release` selects the release profile (measurements); otherwise
/// every chapter is built in the dev profile, which the workspace optimizes
/// too (quick runs, runs from the page in the tests), as `cargo test` built it.
pub fn build(
    project: &Project,
    chapters: &[String],
    release: bool,
) -> Result<HashMap<String, PathBuf>> {
    let mut command = cargo();
    command
        .current_dir(project.workspace())
        .args(["build", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped());
    if release {
        command.args(["--bins", "--release"]);
        for chapter in chapters {
            command.args(["--package", chapter]);
        }
    } else {
        // Every chapter (the test's quick runs, and any dev build, so that
        // one set of artifacts serves them all): the programs, with the
        // integration tests that `cargo xtask test` ran (`cargo test --lib
        // --test '*'`) so that the dev-dependencies' features are the same
        // and its artifacts are reused instead of compiling tokio and
        // everything above it a second time.
        command.args(["--workspace", "--exclude", "xtask", "--bins", "--lib"]);
        let workspace = std::fs::read_dir(project.workspace())?;
        if workspace.flatten().any(|package| package.path().join("tests").is_dir()) {
            command.args(["--test", "*"]); // cargo refuses a pattern that matches nothing
        }
    }
    let mut child = command.spawn().context("cannot start cargo build")?;
    let stdout = child.stdout.take().context("cargo's stdout is piped")?;

    #[derive(Deserialize)]
    struct Message {
        reason: String,
        executable: Option<PathBuf>,
        target: Option<Target>,
        profile: Option<ArtifactProfile>,
    }
    #[derive(Deserialize)]
    struct Target {
        name: String,
        kind: Vec<String>,
    }
    #[derive(Deserialize)]
    struct ArtifactProfile {
        test: bool,
    }
    let mut executables = HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(message) = serde_json::from_str::<Message>(&line) else {
            continue;
        };
        let a_test = message.profile.is_some_and(|p| p.test);
        if let (Some(executable), Some(target)) = (message.executable, message.target)
            && message.reason == "compiler-artifact"
            && target.kind.iter().any(|k| k == "bin")
            && !a_test
        {
            executables.insert(target.name, executable);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo build failed for {}", chapters.join(", "));
    }
    Ok(executables)
}

/// How to start one listing: a compiled binary, or the twins' Python
/// interpreter with the twin's script.
#[derive(Clone, Debug)]
pub struct Program {
    /// The executable.
    pub path: PathBuf,
    /// Arguments before the listing's flags (the script, for a twin).
    pub leading: Vec<PathBuf>,
    /// Environment the listing needs (where the latency server is, for a twin).
    pub env: Vec<(&'static str, PathBuf)>,
    /// The one CPU the program (and every process it starts) may run on, as
    /// on a one-core machine; `None` leaves it the CPUs xtask has.
    pub cpu: Option<usize>,
}

impl Program {
    /// The command that runs this program with `args`, its environment set.
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut command = Command::new(&self.path);
        command.args(&self.leading).args(args).envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(cpu) = self.cpu {
            use std::os::unix::process::CommandExt;
            // SAFETY: between fork and exec the child only builds a CPU set
            // on its stack and makes one system call: nothing allocates or
            // takes a lock, as pre_exec requires.
            unsafe {
                command.pre_exec(move || {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    libc::CPU_SET(cpu, &mut set);
                    match libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) {
                        0 => Ok(()),
                        _ => Err(std::io::Error::last_os_error()),
                    }
                });
            }
        }
        command
    }
}

/// The first CPU this process may run on: the one a one-core run pins to.
pub fn first_cpu() -> Result<usize> {
    // SAFETY: `cpu_set_t` is plain data; all zeroes is the empty set, which
    // sched_getaffinity fills for this process.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable `cpu_set_t` of the size passed.
    if unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        bail!("sched_getaffinity: {}", std::io::Error::last_os_error());
    }
    // SAFETY: CPU_ISSET reads a bit of the initialized set, in bounds.
    (0..libc::CPU_SETSIZE as usize)
        .find(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .context("this process may run on no CPU")
}

/// What a listing needs to run, ready: the binaries of the chapters with
/// Rust listings among `listings`, built (`release` for measurements), and
/// for Python twins, the twins' environment and the latency server they use.
/// Returns each listing's program by id; compile-fail listings have none.
pub fn programs(
    project: &Project,
    listings: &[Listing],
    release: bool,
) -> Result<HashMap<String, Program>> {
    let twins = listings.iter().any(|l| l.spec.python);
    let mut packages: Vec<String> = listings
        .iter()
        .filter(|l| l.spec.compile_fail.is_none() && !l.spec.python)
        .map(|l| l.chapter.clone())
        .collect();
    packages.dedup();
    if twins {
        packages.push("support".to_string());
    }
    let executables =
        if packages.is_empty() { HashMap::new() } else { build(project, &packages, release)? };
    let python = match twins {
        true => Some(crate::python::ensure_venv(project)?),
        false => None,
    };
    let free_threaded = match twins {
        true => crate::python::free_threaded(&std::env::var_os("PATH").unwrap_or_default()),
        false => None,
    };
    if let Some(interpreter) = &free_threaded {
        eprintln!("python: the twins also measure {}, free-threaded", interpreter.display());
    }
    let extensions = match twins {
        true => Some(crate::python::build_extensions(project)?),
        false => None,
    };
    let mut programs = HashMap::new();
    for listing in listings {
        if listing.spec.compile_fail.is_some() {
            continue;
        }
        let program = match &python {
            Some(python) if listing.spec.python => Program {
                path: python.clone(),
                leading: vec![project.source(listing)],
                env: [("PYTHONDONTWRITEBYTECODE", PathBuf::from("1"))]
                    .into_iter()
                    .chain(extensions.clone().map(|dir| ("PYTHONPATH", dir)))
                    .chain(free_threaded.clone().map(|ft| (crate::python::FREE_THREADED_ENV, ft)))
                    .chain(
                        executables
                            .get("latency_server")
                            .map(|server| (LATENCY_SERVER_ENV, server.clone())),
                    )
                    .collect(),
                cpu: None,
            },
            _ => Program {
                path: executables
                    .get(&listing.spec.name)
                    .with_context(|| format!("cargo built no binary for {listing}"))?
                    .clone(),
                leading: Vec::new(),
                env: Vec::new(),
                cpu: None,
            },
        };
        programs.insert(listing.id(), program);
    }
    Ok(programs)
}

/// The variable that tells a twin where the latency server binary is; the
/// same name as `LATENCY_SERVER_ENV` in `support/python/workbook.py`.
pub const LATENCY_SERVER_ENV: &str = "WORKBOOK_LATENCY_SERVER";

/// What one run of a listing left behind.
pub struct Run {
    /// Everything it printed to stdout.
    pub stdout: String,
    /// Everything it printed to stderr.
    pub stderr: String,
    /// How long it took.
    pub elapsed: Duration,
    /// The metrics, series and verdict it reported.
    pub reported: Reported,
}

/// The exit code of each verdict state, the same for every listing, Rust or
/// Python (`support::report`, `support/python/workbook.py`): held 0, failed
/// 1, bad input 2, skipped 3, nothing checked 4.
pub const EXIT_SKIPPED: i32 = 3;
/// See [`EXIT_SKIPPED`].
pub const EXIT_UNCHECKED: i32 = 4;

/// Whether a run's claim held, judged from its exit code and its verdict
/// record: only "held" and "skipped" let a measurement pass.
pub(crate) fn judge(status: ExitStatus, verdict: Option<&Verdict>) -> Option<String> {
    let state = verdict.map(|v| v.state.as_str());
    let evidence = verdict.map_or(String::new(), |v| format!(": {} ({})", v.claim, v.evidence));
    match (status.code(), state) {
        (Some(0), None | Some("held")) => None,
        (Some(EXIT_SKIPPED), Some("skipped")) => None,
        (Some(EXIT_UNCHECKED), _) => Some(format!("checked nothing{evidence}")),
        (Some(0 | EXIT_SKIPPED), Some(state)) => {
            Some(format!("exited with {status} but its verdict says {state}{evidence}"))
        }
        (Some(EXIT_SKIPPED), None) => {
            Some(format!("exited with {status} (skipped) but reported no verdict"))
        }
        _ => Some(format!("failed ({status})")),
    }
}

/// Runs `executable` once, in a scratch folder, in a process group of its
/// own, killed after `timeout`. Anything it leaves running is killed too and
/// counts as a failure: a listing must clean up after itself.
pub fn run_once(
    listing: &Listing,
    program: &Program,
    args: &[String],
    timeout: Duration,
    metrics_file: Option<&Path>,
) -> Result<Run> {
    let scratch = tempfile::tempdir()?;
    let records = tempfile::tempdir()?;
    let metrics_file =
        metrics_file.map_or_else(|| records.path().join("metrics.jsonl"), Path::to_path_buf);
    let mut command = program.command(args);
    command
        .current_dir(scratch.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .env(support_metrics_env(), &metrics_file);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {listing} ({})", program.path.display()))?;
    let group = child.id() as libc::pid_t;
    let _watched = watch_group(group);
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());

    let status: Option<ExitStatus> = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > timeout {
            kill_group(group);
            child.wait()?;
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    // What a listing started must end by itself, soon: a helper that exits
    // when it reads end-of-file from its parent (Python's multiprocessing
    // resource tracker) gets a moment to see it.
    let grace = Instant::now();
    while status.is_some() && group_is_alive(group) && grace.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let leftovers = group_is_alive(group);
    kill_group(group);
    let run = Run {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed,
        reported: read_reported(&metrics_file)?,
    };
    let failure = match status {
        None => Some(format!("passed its timeout of {} s and was killed", timeout.as_secs())),
        Some(status) => judge(status, run.reported.verdict.as_ref()).or_else(|| {
            leftovers.then(|| "exited but left processes running (they were killed)".into())
        }),
    };
    if let Some(failure) = failure {
        let message = format!(
            "{listing} {failure}\n--- its stdout (last lines) ---\n{}\n--- its stderr ---\n{}",
            tail(&run.stdout, 20),
            tail(&run.stderr, 40)
        );
        let claim_failed = status.and_then(|s| s.code()) == Some(1)
            && run.reported.verdict.as_ref().is_some_and(|v| v.state == "failed");
        return Err(match claim_failed {
            true => anyhow::Error::new(ClaimFailed).context(message),
            false => anyhow::anyhow!(message),
        });
    }
    Ok(run)
}

/// Marks a run that ended normally with its claim reported as failed, as
/// opposed to a crash, a hang or a broken protocol: only such a run may be
/// tried again (`test::quick_runs`), since a noisy moment can tip a timing.
#[derive(Debug)]
pub struct ClaimFailed;

impl std::fmt::Display for ClaimFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("its claim failed")
    }
}

impl std::error::Error for ClaimFailed {}

pub(crate) fn support_metrics_env() -> &'static str {
    // The same name as `support::report::METRICS_ENV`; the xtask does not
    // depend on the support crate, and `tests::protocol_names_agree` checks
    // that the two never drift apart.
    "WORKBOOK_METRICS"
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// The process groups of the programs xtask is running now (listings,
/// Chromium), each in a group of its own, which the terminal's Ctrl-C does
/// not reach: the handler of [`end_groups_on_signals`] ends them.
static RUNNING: [std::sync::atomic::AtomicI32; 16] =
    [const { std::sync::atomic::AtomicI32::new(0) }; 16];

/// Keeps a process group on the list the signal handler ends, while it lives.
pub struct Watched(Option<usize>);

/// Puts `group` on the list until the guard is dropped (with more than 16
/// at once, the 17th is not listed).
pub fn watch_group(group: libc::pid_t) -> Watched {
    use std::sync::atomic::Ordering::SeqCst;
    Watched(RUNNING.iter().position(|slot| slot.compare_exchange(0, group, SeqCst, SeqCst).is_ok()))
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            RUNNING[slot].store(0, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// On Ctrl-C, SIGTERM or SIGHUP: kill every listed process group, then exit
/// with 128 + the signal, as the signal itself would have.
pub fn end_groups_on_signals() {
    extern "C" fn on_signal(signal: libc::c_int) {
        for slot in &RUNNING {
            kill_group(slot.load(std::sync::atomic::Ordering::SeqCst));
        }
        // SAFETY: _exit is async-signal-safe, as are the atomic loads and
        // kill(2) above; nothing else runs in the handler.
        unsafe { libc::_exit(128 + signal) }
    }
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only makes async-signal-safe calls.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

pub(crate) fn kill_group(group: libc::pid_t) {
    if group <= 0 {
        return; // Not a group: kill(-0) would be this process's own.
    }
    // SAFETY: kill(2) with a negative pid signals that process group; it has
    // no memory-safety preconditions. ESRCH (no such group) is fine.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

pub(crate) fn group_is_alive(group: libc::pid_t) -> bool {
    // SAFETY: as above; signal 0 only checks that the group exists.
    unsafe { libc::kill(-group, 0) == 0 }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One line of the metrics file a listing writes.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Record {
    Metric { name: String, value: f64, unit: String },
    Series { name: String, x_unit: String, y_unit: String, points: Vec<(f64, f64)> },
    Verdict(Verdict),
}

/// The metrics, series and verdict one run reported, metrics in
/// first-reported order.
#[derive(Default)]
pub struct Reported {
    /// Each metric's name, value and unit.
    pub metrics: Vec<(String, f64, String)>,
    /// Each series by name.
    pub series: BTreeMap<String, Series>,
    /// The claim's verdict, if the listing reported one as a record.
    pub verdict: Option<Verdict>,
}

pub(crate) fn read_reported(path: &Path) -> Result<Reported> {
    let mut reported = Reported::default();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(reported),
        Err(e) => return Err(e.into()),
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str(line).with_context(|| format!("bad metrics line: {line}"))? {
            Record::Metric { name, value, unit } => {
                match reported.metrics.iter_mut().find(|(n, _, _)| *n == name) {
                    Some(slot) => *slot = (name, value, unit),
                    None => reported.metrics.push((name, value, unit)),
                }
            }
            Record::Series { name, x_unit, y_unit, points } => {
                reported.series.insert(name, Series { x_unit, y_unit, points });
            }
            Record::Verdict(verdict) => reported.verdict = Some(verdict),
        }
    }
    Ok(reported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_held_or_skipped_verdict_lets_a_run_pass() {
        use std::os::unix::process::ExitStatusExt;
        let exit = |code: i32| ExitStatus::from_raw(code << 8);
        let verdict = |state: &str| Verdict {
            state: state.into(),
            claim: "threads overlap".into(),
            evidence: "1.9x".into(),
        };
        let check = |code: i32, state: Option<&str>, expected: Option<&str>| {
            let judged = judge(exit(code), state.map(verdict).as_ref());
            assert_eq!(judged.as_deref(), expected, "exit {code}, verdict {state:?}");
        };
        check(0, None, None);
        check(0, Some("held"), None);
        check(3, Some("skipped"), None);
        check(1, Some("failed"), Some("failed (exit status: 1)"));
        check(4, Some("unchecked"), Some("checked nothing: threads overlap (1.9x)"));
        check(
            0,
            Some("failed"),
            Some("exited with exit status: 0 but its verdict says failed: threads overlap (1.9x)"),
        );
        check(3, None, Some("exited with exit status: 3 (skipped) but reported no verdict"));
    }

    #[test]
    fn protocol_names_agree() {
        let support = include_str!("../../support/src/report.rs");
        let declared = format!("pub const METRICS_ENV: &str = \"{}\";", support_metrics_env());
        assert!(support.contains(&declared), "support and xtask disagree on the metrics variable");
        for declared in [
            format!("pub const EXIT_SKIPPED: u8 = {EXIT_SKIPPED};"),
            format!("pub const EXIT_UNCHECKED: u8 = {EXIT_UNCHECKED};"),
        ] {
            assert!(support.contains(&declared), "support and xtask disagree: {declared}");
        }
        let python = include_str!("../../support/python/workbook.py");
        for declared in [
            format!("METRICS_ENV = \"{}\"", support_metrics_env()),
            format!("LATENCY_SERVER_ENV = \"{LATENCY_SERVER_ENV}\""),
            format!("EXIT_SKIPPED, EXIT_UNCHECKED = 0, 1, 2, {EXIT_SKIPPED}, {EXIT_UNCHECKED}"),
        ] {
            assert!(python.contains(&declared), "workbook.py and xtask disagree: {declared}");
        }
        let cli = include_str!("../../support/src/cli.rs");
        for (name, flag) in
            [("DESCRIBE", crate::bad_input::DESCRIBE), ("CHECK", crate::bad_input::CHECK)]
        {
            let declared = format!("pub const {name}: &str = \"{flag}\";");
            assert!(cli.contains(&declared), "support::cli and xtask disagree: {declared}");
            let parsed = format!("argv[:1] == [\"{flag}\"]");
            assert!(python.contains(&parsed), "workbook.py and xtask disagree on {flag}");
        }
    }
}
