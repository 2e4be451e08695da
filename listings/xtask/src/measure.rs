//! `cargo xtask measure`: build the listings, run them, record what they
//! print and report. Also the runner behind the quick runs of `cargo xtask
//! test`.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::fingerprint::fingerprint;
use crate::output::{Machine, Metric, Output, Series, Verdict};
use crate::project::{Listing, Project};

/// `$CARGO`, as cargo set it for this xtask, or `cargo`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds the binaries of `chapters` and returns each one's executable by
/// name. `release` selects the release profile (measurements), otherwise the
/// dev profile, which the workspace optimizes too (quick runs, tours).
pub fn build(
    project: &Project,
    chapters: &[String],
    release: bool,
) -> Result<HashMap<String, PathBuf>> {
    let mut command = cargo();
    command
        .current_dir(project.workspace())
        .args(["build", "--bins", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped());
    if release {
        command.arg("--release");
    }
    for chapter in chapters {
        command.args(["--package", chapter]);
    }
    let mut child = command.spawn().context("cannot start cargo build")?;
    let stdout = child.stdout.take().context("cargo's stdout is piped")?;

    #[derive(Deserialize)]
    struct Message {
        reason: String,
        executable: Option<PathBuf>,
        target: Option<Target>,
    }
    #[derive(Deserialize)]
    struct Target {
        name: String,
    }
    let mut executables = HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(message) = serde_json::from_str::<Message>(&line) else {
            continue;
        };
        if let (Some(executable), Some(target)) = (message.executable, message.target)
            && message.reason == "compiler-artifact"
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
fn judge(status: ExitStatus, verdict: Option<&Verdict>) -> Option<String> {
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

fn support_metrics_env() -> &'static str {
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

fn kill_group(group: libc::pid_t) {
    // SAFETY: kill(2) with a negative pid signals that process group; it has
    // no memory-safety preconditions. ESRCH (no such group) is fine.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

fn group_is_alive(group: libc::pid_t) -> bool {
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
    metrics: Vec<(String, f64, String)>,
    series: BTreeMap<String, Series>,
    /// The claim's verdict, if the listing reported one as a record.
    pub verdict: Option<Verdict>,
}

fn read_reported(path: &Path) -> Result<Reported> {
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

/// What the runs of one listing add up to.
struct Combined {
    stdout: Vec<String>,
    metrics: BTreeMap<String, Metric>,
    series: BTreeMap<String, Series>,
    verdict: Option<Verdict>,
}

/// Combines the runs of one listing into its output.
fn combine(listing: &Listing, runs: Vec<Run>) -> Result<Combined> {
    let first = &runs[0].reported;
    let mut metrics = BTreeMap::new();
    for (name, _, unit) in &first.metrics {
        let mut samples = Vec::new();
        for (index, run) in runs.iter().enumerate() {
            let Some((_, value, run_unit)) =
                run.reported.metrics.iter().find(|(n, _, _)| n == name)
            else {
                bail!("{listing} reported `{name}` on run 1 but not on run {}", index + 1);
            };
            if run_unit != unit {
                bail!("{listing} reported `{name}` in {unit} and then in {run_unit}");
            }
            samples.push(*value);
        }
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        metrics.insert(
            name.clone(),
            Metric {
                unit: unit.clone(),
                median: median(&sorted),
                min: sorted[0],
                max: sorted[sorted.len() - 1],
                samples,
            },
        );
    }
    for (index, run) in runs.iter().enumerate() {
        if let Some((name, _, _)) =
            run.reported.metrics.iter().find(|(n, _, _)| !metrics.contains_key(n))
        {
            bail!("{listing} reported `{name}` on run {} but not on run 1", index + 1);
        }
    }
    // The displayed run is the most typical one: the run whose figures sit,
    // over all its metrics, closest to the middle of the runs. Then the
    // output a page shows agrees with the medians its prose quotes as well
    // as one real run can.
    let samples: Vec<&[f64]> = metrics.values().map(|m| m.samples.as_slice()).collect();
    let shown = most_typical_run(&samples, runs.len());
    let run = runs.into_iter().nth(shown).expect("shown is a run index");
    let stdout = run.stdout.lines().map(str::to_string).collect();
    Ok(Combined { stdout, metrics, series: run.reported.series, verdict: run.reported.verdict })
}

/// The run whose values are, summed over the metrics, the fewest ranks away
/// from the middle rank; the last run when there are no metrics, the earliest
/// on a tie.
fn most_typical_run(metrics: &[&[f64]], runs: usize) -> usize {
    let middle = (runs as f64 - 1.0) / 2.0;
    let distance = |run: usize| -> f64 {
        metrics
            .iter()
            .map(|values| {
                let rank = values.iter().filter(|v| v.total_cmp(&values[run]).is_lt()).count();
                (rank as f64 - middle).abs()
            })
            .sum()
    };
    if metrics.is_empty() {
        return runs - 1;
    }
    (0..runs).min_by(|&a, &b| distance(a).total_cmp(&distance(b))).unwrap_or(0)
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// The listings whose committed output is missing or stale.
pub fn stale(project: &Project, listings: &[Listing]) -> Result<Vec<Listing>> {
    let mut stale = Vec::new();
    for listing in listings {
        let path = project.output_path(listing);
        let fresh = path.exists()
            && Output::load(&path).is_ok_and(|output| {
                fingerprint(project, listing).is_ok_and(|now| now == output.fingerprint)
            });
        if !fresh {
            stale.push(listing.clone());
        }
    }
    Ok(stale)
}

/// Measures `chosen` (in book order) and writes their outputs.
pub fn measure(project: &Project, chosen: &[Listing]) -> Result<()> {
    if chosen.is_empty() {
        eprintln!(
            "measure: every output is fresh; nothing to measure (`cargo xtask measure --all` re-measures all)"
        );
        return Ok(());
    }
    eprintln!("measure: building what the listings need, in release mode");
    let programs = programs(project, chosen, true)?;
    let machine = machine()?;
    let started = Instant::now();
    let mut costs = Vec::new();
    let scratch = tempfile::tempdir()?;
    for (index, listing) in chosen.iter().enumerate() {
        if listing.spec.compile_fail.is_some() {
            eprintln!(
                "measure: [{}/{}] {listing}: compiling, expecting an error",
                index + 1,
                chosen.len()
            );
            let output = Output {
                listing: listing.id(),
                command: compile_command(project, listing),
                args: Vec::new(),
                runs: 1,
                fingerprint: fingerprint(project, listing)?,
                machine: machine.clone(),
                measured_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
                stdout: compile_failure(project, listing)?,
                metrics: BTreeMap::new(),
                series: BTreeMap::new(),
                verdict: None,
            };
            output.save(&project.output_path(listing))?;
            continue;
        }
        let program = &programs[&listing.id()];
        let mut runs = Vec::new();
        for run in 1..=listing.spec.runs {
            eprintln!(
                "measure: [{}/{}] {listing} run {run}/{} ({:.1} s elapsed)",
                index + 1,
                chosen.len(),
                listing.spec.runs,
                started.elapsed().as_secs_f64()
            );
            let metrics_file = scratch.path().join(format!("{}-{run}.jsonl", listing.spec.name));
            let timeout = Duration::from_secs(listing.spec.timeout_s);
            let result =
                run_once(listing, program, &listing.spec.args, timeout, Some(&metrics_file))
                    .with_context(|| {
                        format!(
                            "measuring {listing} (run {run}/{}); its committed output is unchanged",
                            listing.spec.runs
                        )
                    })?;
            runs.push(result);
        }
        let spent = runs.iter().map(|run| run.elapsed.as_secs_f64()).sum();
        costs.push((listing.id(), spent, listing.spec.python));
        let Combined { stdout, metrics, series, verdict } = combine(listing, runs)?;
        let mut command = match listing.spec.python {
            true => format!("cargo xtask python {listing}"),
            false => {
                format!("cargo run --release -p {} --bin {}", listing.chapter, listing.spec.name)
            }
        };
        let machine = Machine {
            python: match listing.spec.python {
                true => Some(crate::python::interpreter(&programs[&listing.id()].path)?),
                false => None,
            },
            ..machine.clone()
        };
        if !listing.spec.args.is_empty() {
            command = format!("{command} -- {}", listing.spec.args.join(" "));
        }
        let output = Output {
            listing: listing.id(),
            command,
            args: listing.spec.args.clone(),
            runs: listing.spec.runs,
            fingerprint: fingerprint(project, listing)?,
            machine,
            measured_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            stdout,
            metrics,
            series,
            verdict,
        };
        output.save(&project.output_path(listing))?;
    }
    eprintln!(
        "measure: {} listing(s) measured in {:.1} s",
        chosen.len(),
        started.elapsed().as_secs_f64()
    );
    eprint!("{}", cost_summary(&mut costs));
    Ok(())
}

/// Where the measuring time went, for the budget: the runs of the Rust
/// listings and of the twins, and the listings that cost the most.
fn cost_summary(costs: &mut [(String, f64, bool)]) -> String {
    let total = |python: bool| -> f64 {
        // An empty sum of f64 is -0.0: adding 0.0 prints it as 0.
        costs.iter().filter(|(_, _, p)| *p == python).map(|(_, s, _)| s).sum::<f64>() + 0.0
    };
    let mut summary = format!(
        "measure: runs took {:.0} s for Rust listings, {:.0} s for Python twins\n",
        total(false),
        total(true)
    );
    costs.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (id, spent, _) in costs.iter().take(10).filter(|(_, s, _)| *s >= 1.0) {
        summary.push_str(&format!("measure:   {spent:6.1} s  {id}\n"));
    }
    summary
}

/// The command that shows a compile-fail listing's error.
fn compile_command(project: &Project, listing: &Listing) -> String {
    format!("rustc --edition 2024 {}", project.relative(&project.source(listing)))
}

/// Compiles a listing whose lesson is a compiler error, and returns the
/// compiler's message, line by line. It is an error if the listing compiles,
/// or fails with another error than the one it is there to show.
pub fn compile_failure(project: &Project, listing: &Listing) -> Result<Vec<String>> {
    let code = listing.spec.compile_fail.as_deref().unwrap_or("");
    let scratch = tempfile::tempdir()?;
    let source = project.relative(&project.source(listing));
    let output = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .current_dir(&project.root)
        .args(["--edition", "2024", "--color", "never", "--crate-type", "bin", "--out-dir"])
        .arg(scratch.path())
        .arg(&source)
        .output()
        .context("cannot run rustc")?;
    let message = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        bail!("{listing} compiled, but its lesson is the compiler error {code}");
    }
    // An error code names the error; some errors have none, and are named
    // by their message instead ("future cannot be sent between threads safely").
    let is_code =
        code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit());
    let reproduced = if is_code {
        message.contains(&format!("error[{code}]"))
    } else {
        message.lines().any(|line| line.starts_with("error") && line.contains(code))
    };
    if !reproduced {
        let expected =
            if is_code { format!("error[{code}]") } else { format!("the error \"{code}\"") };
        bail!("{listing} no longer fails with {expected}; the compiler now says:\n{message}");
    }
    Ok(message.trim_end().lines().map(str::to_string).collect())
}

/// The machine this runs on, for the captions.
pub fn machine() -> Result<Machine> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let distribution = release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_string())
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let os = format!("{distribution}, Linux {}", kernel.trim());
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .context("cannot run rustc --version")?;
    let rustc = String::from_utf8_lossy(&rustc.stdout)
        .split(" (")
        .next()
        .unwrap_or("rustc")
        .trim()
        .to_string();
    Ok(Machine { cpu, cores, os, rustc, python: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{listing, workbook, write};

    const REPORTING: &str = r##"use std::io::Write;
fn main() {
    let value = f64::from(std::process::id() % 1000);
    println!("value {value}");
    let path = std::env::var_os("WORKBOOK_METRICS").expect("measure sets WORKBOOK_METRICS");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, r#"{{"kind":"metric","name":"value","value":{value},"unit":"ms"}}"#).unwrap();
}
"##;

    /// The fixture workbook with real programs: one that reports a metric,
    /// one that fails, one that hangs, one that leaves a process behind.
    fn programs() -> (tempfile::TempDir, Project) {
        let (dir, project) = workbook();
        let measure = "[[listing]]\nname = \"waiting\"\nruns = 3\n\n\
                       [[listing]]\nname = \"other\"\n\n\
                       [[listing]]\nname = \"hanging\"\ntimeout_s = 1\n\n\
                       [[listing]]\nname = \"leaking\"\n";
        let failing = "fn main() {\n    eprintln!(\"the ticker server did not answer\");\n    std::process::exit(5);\n}\n";
        let hanging =
            "fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(60));\n}\n";
        let leaking = "fn main() {\n    std::process::Command::new(\"sleep\").arg(\"30\").spawn().unwrap();\n}\n";
        for (path, text) in [
            ("listings/ch99/measure.toml", measure),
            ("listings/ch99/src/bin/waiting.rs", REPORTING),
            ("listings/ch99/src/bin/other.rs", failing),
            ("listings/ch99/src/bin/hanging.rs", hanging),
            ("listings/ch99/src/bin/leaking.rs", leaking),
            // A tour of its own, not the generated one: this support crate is bare.
            ("listings/ch99/src/main.rs", "fn main() {}\n"),
            (
                "listings/ch99/Cargo.toml",
                "[package]\nname = \"ch99\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
            ),
            (
                "listings/support/Cargo.toml",
                "[package]\nname = \"support\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
            ),
        ] {
            write(dir.path(), path, text);
        }
        std::fs::remove_file(dir.path().join("listings/Cargo.lock")).unwrap();
        (dir, project)
    }

    fn failure(project: &Project, id: &str) -> String {
        let chosen = [listing(project, id)];
        format!("{:#}", measure(project, &chosen).unwrap_err())
    }

    #[test]
    fn a_compile_fail_listing_shows_the_real_error_and_fails_when_it_compiles() {
        let (dir, project) = workbook();
        let entry = "[[listing]]\nname = \"mismatch\"\ncompile_fail = \"E0308\"\n";
        write(dir.path(), "listings/ch99/measure.toml", entry);
        let source = "fn main() {\n    let count: u32 = \"three\";\n}\n";
        write(dir.path(), "listings/ch99/compile_fail/mismatch.rs", source);
        let mismatch = listing(&project, "ch99/mismatch");
        let message = compile_failure(&project, &mismatch).unwrap();
        assert_eq!(message[0], "error[E0308]: mismatched types");
        assert_eq!(message[1], " --> listings/ch99/compile_fail/mismatch.rs:2:22");

        measure(&project, std::slice::from_ref(&mismatch)).unwrap();
        let output = Output::load(&project.output_path(&mismatch)).unwrap();
        assert_eq!(output.stdout, message);
        assert_eq!(output.command, "rustc --edition 2024 listings/ch99/compile_fail/mismatch.rs");

        // The lesson stops reproducing: the check says so.
        write(dir.path(), "listings/ch99/compile_fail/mismatch.rs", "fn main() {}\n");
        let error = compile_failure(&project, &mismatch).unwrap_err().to_string();
        assert_eq!(error, "ch99/mismatch compiled, but its lesson is the compiler error E0308");
        write(dir.path(), "listings/ch99/compile_fail/mismatch.rs", "fn main() { undefined(); }\n");
        let error = compile_failure(&project, &mismatch).unwrap_err().to_string();
        assert!(error.starts_with("ch99/mismatch no longer fails with error[E0308]"), "{error}");

        // An error without a code is named by its message.
        let entry = "[[listing]]\nname = \"mismatch\"\ncompile_fail = \"mismatched types\"\n";
        write(dir.path(), "listings/ch99/measure.toml", entry);
        let by_message = listing(&project, "ch99/mismatch");
        write(dir.path(), "listings/ch99/compile_fail/mismatch.rs", source);
        assert_eq!(compile_failure(&project, &by_message).unwrap(), message);
        write(dir.path(), "listings/ch99/compile_fail/mismatch.rs", "fn main() { undefined(); }\n");
        let error = compile_failure(&project, &by_message).unwrap_err().to_string();
        assert!(
            error.starts_with("ch99/mismatch no longer fails with the error \"mismatched types\""),
            "{error}"
        );
    }

    #[test]
    fn measuring_records_the_median_run_and_a_failure_keeps_the_old_output() {
        let (_dir, project) = programs();
        let waiting = listing(&project, "ch99/waiting");
        let other = listing(&project, "ch99/other");
        measure(&project, std::slice::from_ref(&waiting)).unwrap();

        let output = Output::load(&project.output_path(&waiting)).unwrap();
        let value = &output.metrics["value"];
        assert_eq!(value.samples.len(), 3);
        assert_eq!(
            output.stdout,
            [format!("value {}", value.median)],
            "the shown run is the median one"
        );
        assert_eq!(output.fingerprint, fingerprint(&project, &waiting).unwrap());
        assert!(stale(&project, std::slice::from_ref(&waiting)).unwrap().is_empty());

        // A failing listing names itself and its stderr, and writes nothing.
        let message = failure(&project, "ch99/other");
        assert!(message.contains("ch99/other failed (exit status: 5)"), "{message}");
        assert!(message.contains("the ticker server did not answer"), "{message}");
        assert!(!project.output_path(&other).exists());

        // One that hangs is killed at its timeout.
        let message = failure(&project, "ch99/hanging");
        assert!(
            message.contains("ch99/hanging passed its timeout of 1 s and was killed"),
            "{message}"
        );

        // One that leaves a process running fails, and the process is killed.
        let message = failure(&project, "ch99/leaking");
        assert!(message.contains("ch99/leaking exited but left processes running"), "{message}");
    }

    #[test]
    fn the_shown_run_is_the_most_typical_over_all_metrics() {
        // Run 0 is the median by the first metric but an outlier by the other
        // two; run 2 sits in the middle of all three.
        let first: &[f64] = &[5.0, 1.0, 6.0, 9.0, 2.0];
        let second: &[f64] = &[100.0, 3.0, 4.0, 5.0, 2.0];
        let third: &[f64] = &[0.0, 10.0, 11.0, 12.0, 9.0];
        assert_eq!(most_typical_run(&[first, second, third], 5), 2);
        assert_eq!(most_typical_run(&[first], 5), 0);
        assert_eq!(most_typical_run(&[], 3), 2);
    }

    #[test]
    fn a_python_twin_is_measured_like_a_listing_and_its_skip_recorded() {
        let (dir, project) = programs();
        let helper = include_str!("../../support/python/workbook.py");
        write(dir.path(), "listings/support/python/workbook.py", helper);
        write(dir.path(), "listings/support/python/requirements.lock", "");
        let twin = "\"\"\"Two cores let two threads overlap.\"\"\"\nimport workbook\n\n\
                    args = workbook.parser(__doc__).flag(\"--threads\", int, 2, 1, 64, \"threads\").parse()\n\
                    print(f\"threads {args.threads}\")\n\
                    workbook.metric(\"threads\", args.threads, \"\")\n\
                    if args.threads == 64:\n    raise SystemExit(workbook.verdict(\"threads overlap\", False, \"1.0x\"))\n\
                    raise SystemExit(workbook.skipped(\"threads overlap\", \"this machine lends one core\"))\n";
        write(dir.path(), "listings/ch99/python/overlap.py", twin);
        let entry = "\n[[listing]]\nname = \"overlap\"\npython = true\nruns = 2\nargs = [\"--threads\", \"3\"]\n";
        let measure_toml = dir.path().join("listings/ch99/measure.toml");
        let text = std::fs::read_to_string(&measure_toml).unwrap();
        std::fs::write(&measure_toml, format!("{text}{entry}")).unwrap();
        let overlap = listing(&project, "ch99/overlap");

        measure(&project, std::slice::from_ref(&overlap)).unwrap();
        let output = Output::load(&project.output_path(&overlap)).unwrap();
        assert_eq!(
            output.stdout,
            ["threads 3", "claim skipped: threads overlap (this machine lends one core)"]
        );
        assert_eq!(output.metrics["threads"].samples, [3.0, 3.0]);
        assert_eq!(output.command, "cargo xtask python ch99/overlap -- --threads 3");
        let verdict = output.verdict.unwrap();
        assert_eq!(
            (verdict.state.as_str(), verdict.evidence.as_str()),
            ("skipped", "this machine lends one core")
        );
        assert!(output.machine.python.unwrap().starts_with("CPython 3."));

        // A bad flag: one line on stderr, exit code 2, and the run fails.
        let ready = super::programs(&project, std::slice::from_ref(&overlap), false).unwrap();
        let run = |flags: [&str; 2]| {
            let flags = flags.map(String::from);
            let timeout = Duration::from_secs(20);
            run_once(&overlap, &ready["ch99/overlap"], &flags, timeout, None).err().unwrap()
        };
        let bad = run(["--threads", "0"]);
        assert!(bad.downcast_ref::<ClaimFailed>().is_none(), "bad input is no failed claim");
        let error = bad.to_string();
        assert!(error.contains("ch99/overlap failed (exit status: 2)"), "{error}");
        assert!(
            error.ends_with(
                "--- its stderr ---\nerror: argument --threads: invalid value '0': not in 1..=64"
            ),
            "{error}"
        );
        // A failed claim is told apart from a crash: only it may be tried again.
        let failed = run(["--threads", "64"]);
        assert!(failed.downcast_ref::<ClaimFailed>().is_some(), "{failed:#}");
    }

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
    }
}
