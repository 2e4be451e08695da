//! `cargo xtask measure`: run each stale listing its number of times
//! (`run.rs` runs one), combine the runs into its output (the medians, the
//! most typical run's stdout) and write it, or stop naming the listing that
//! failed, its committed output left as it was.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};

use crate::compile_fail::{compile_command, compile_failure};
use crate::fingerprint::fingerprint;
use crate::output::{Machine, Metric, Output, Series, Verdict};
use crate::project::{Listing, Project};
use crate::run::{Run, programs, run_once};

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
    // over all its metrics, closest to the middle of the runs; the text
    // quotes its figures (`Output::quoted`).
    let samples: Vec<&[f64]> = metrics.values().map(|m| m.samples.as_slice()).collect();
    let shown = crate::output::most_typical_run(&samples, runs.len());
    let run = runs.into_iter().nth(shown).expect("shown is a run index");
    let stdout = run.stdout.lines().map(str::to_string).collect();
    Ok(Combined { stdout, metrics, series: run.reported.series, verdict: run.reported.verdict })
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
        let machine = Machine {
            python: match listing.spec.python {
                true => Some(crate::python::interpreter(&programs[&listing.id()].path)?),
                false => None,
            },
            servers: listing
                .spec
                .servers
                .iter()
                .map(String::as_str)
                .map(server_version)
                .collect::<Result<_>>()?,
            ..machine.clone()
        };
        let command = listing.command(&listing.spec.args);
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
    Ok(Machine { cpu, cores, os, rustc, python: None, servers: Vec::new() })
}

/// A server program's name and version, from `PROGRAM --version`:
/// `redis-server 7.0.15` (Redis prints `Redis server v=7.0.15 sha=...`).
fn server_version(program: &str) -> Result<String> {
    let output = Command::new(program)
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run {program} --version: is it installed?"))?;
    Ok(version_line(program, &String::from_utf8_lossy(&output.stdout)))
}

fn version_line(program: &str, printed: &str) -> String {
    let first = printed.lines().next().unwrap_or("").trim();
    let version = first.split_whitespace().find_map(|word| word.strip_prefix("v="));
    let numeric = |word: &&str| word.starts_with(|c: char| c.is_ascii_digit());
    let version = version.or_else(|| first.split_whitespace().find(numeric));
    format!("{program} {}", version.unwrap_or(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{listing, workbook, write};

    #[test]
    fn a_servers_version_is_read_from_what_it_prints() {
        let redis = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1\n";
        assert_eq!(version_line("redis-server", redis), "redis-server 7.0.15");
        assert_eq!(version_line("nginx", "nginx version 1.22.1\n"), "nginx 1.22.1");
        assert_eq!(version_line("odd", "no digits here\n"), "odd no digits here");
    }
    use crate::run::ClaimFailed;

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
        let ready = crate::run::programs(&project, std::slice::from_ref(&overlap), false).unwrap();
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
}
