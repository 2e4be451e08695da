//! Bad input, tried as a new user would: every listing refuses a flag it
//! does not know, and each value just outside a numeric flag's declared
//! range, a non-number, an empty string, a folder that does not exist and a
//! choice it does not offer, each with one line on stderr and exit code 2
//! within 5 s: never a panic, a traceback or a run. The flags come from the
//! listing itself (`--describe-flags`, `support::cli` and `workbook.parser`),
//! so a new flag is tried with no edit here, and a numeric flag that declares
//! no range fails the check.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::project::Listing;
use crate::run::Program;

/// One flag, as `--describe-flags` prints it (`support::cli::FlagSpec`).
#[derive(Debug, Deserialize)]
pub struct Flag {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    min: Option<serde_json::Number>,
    max: Option<serde_json::Number>,
    #[serde(default)]
    choices: Vec<String>,
}

/// Tries every bad value on `listing`; the first one it mishandles fails.
/// Returns how many bad command lines it refused.
pub fn check(listing: &Listing, program: &Program) -> Result<usize> {
    let quick = &listing.spec.quick;
    let described = finish(program.command(&[DESCRIBE]), listing, DESCRIBE)?;
    if described.status.code() != Some(0) {
        bail!("{listing} --describe-flags failed: {}", String::from_utf8_lossy(&described.stderr));
    }
    let flags: Vec<Flag> = serde_json::from_slice(&described.stdout)
        .with_context(|| format!("{listing} --describe-flags printed no list of flags"))?;
    let mut checked = vec![vec!["--no-such-flag".to_string()]];
    // Checked without running, too: the first bad value of each flag.
    let mut without_running = vec![vec![CHECK.to_string(), "--no-such-flag".to_string()]];
    for flag in &flags {
        let others = without(quick, &flag.name);
        let values = bad_values(flag).with_context(|| format!("{listing} --{}", flag.name))?;
        for (i, value) in values.into_iter().enumerate() {
            let args = [others.clone(), vec![format!("--{}", flag.name), value]].concat();
            if i == 0 && flag.kind != "path" {
                without_running.push([vec![CHECK.to_string()], args.clone()].concat());
            }
            checked.push(args);
        }
    }
    checked.extend(without_running);
    // Independent runs that time nothing: four at once.
    let next = AtomicUsize::new(0);
    let first_problem = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    while let Some(args) = checked.get(next.fetch_add(1, Ordering::Relaxed)) {
                        refused(listing, program, args)?;
                    }
                    Ok::<(), anyhow::Error>(())
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a checking thread")).find(Result::is_err)
    });
    if let Some(problem) = first_problem {
        problem?;
    }
    let good = [vec![CHECK.to_string()], quick.clone()].concat();
    let output = finish(program.command(&good), listing, CHECK)?;
    if output.status.code() != Some(0) || !output.stdout.is_empty() {
        bail!("{listing} {CHECK} {} must exit 0 and print nothing", quick.join(" "));
    }
    Ok(checked.len())
}

/// Given first, the flag that prints a listing's flags as JSON; the same
/// name as `support::cli::DESCRIBE` and in `workbook.py` (a test checks).
pub const DESCRIBE: &str = "--describe-flags";
/// Given first, the flag that checks the rest without running.
pub const CHECK: &str = "--check-flags";

/// The values `flag` must refuse.
fn bad_values(flag: &Flag) -> Result<Vec<String>> {
    let mut values = Vec::new();
    match flag.kind.as_str() {
        "u64" | "u32" | "u16" | "u8" | "i64" | "usize" | "f64" => {
            let (Some(min), Some(max)) = (&flag.min, &flag.max) else {
                bail!("a numeric flag must declare its range (value_parser = ...range(..))");
            };
            for (edge, step) in [(min, -1.0), (max, 1.0)] {
                values.push(
                    match edge.as_i64().map(i128::from).or(edge.as_u64().map(i128::from)) {
                        Some(whole) => (whole + step as i128).to_string(),
                        None => (edge.as_f64().unwrap_or(0.0) + step).to_string(),
                    },
                );
            }
            values.extend(["abc".to_string(), String::new()]);
        }
        "path" => values.push("/nonexistent/workbook-bad-input".to_string()),
        "choice" => values.push(format!("no-such-{}", flag.choices.join("-"))),
        _ => {}
    }
    Ok(values)
}

/// `quick` without `--name` and its value.
fn without(quick: &[String], name: &str) -> Vec<String> {
    let flag = format!("--{name}");
    let mut kept = Vec::new();
    let mut args = quick.iter();
    while let Some(arg) = args.next() {
        match arg == &flag {
            true => drop(args.next()),
            false => kept.push(arg.clone()),
        }
    }
    kept
}

/// `listing` run with `args` prints one line on stderr and nothing else,
/// and exits 2.
fn refused(listing: &Listing, program: &Program, args: &[String]) -> Result<()> {
    let output = finish(program.command(args), listing, &args.join(" "))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines = stderr.lines().count();
    if output.status.code() != Some(2) || lines != 1 || !output.stdout.is_empty() {
        bail!(
            "{listing} {} must print one line on stderr and exit 2; it exited {} with {lines} line(s) on stderr:\n{stderr}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout)
        );
    }
    Ok(())
}

/// Runs `command` to its end, killed after 5 s: bad input must stop a run at once.
fn finish(
    mut command: std::process::Command,
    listing: &Listing,
    what: &str,
) -> Result<std::process::Output> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {listing}"))?;
    let started = Instant::now();
    while child.try_wait()?.is_none() {
        if started.elapsed() > Duration::from_secs(5) {
            child.kill()?;
            child.wait()?;
            bail!("{listing} {what} was still running after 5 s: bad input must stop it at once");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(child.wait_with_output()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(json: &str) -> Flag {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_bad_values_lie_just_outside_the_declared_range() {
        let ranged = flag(r#"{"name":"pages","type":"u64","min":1,"max":300}"#);
        assert_eq!(bad_values(&ranged).unwrap(), ["0", "301", "abc", ""]);
        let python = flag(r#"{"name":"ratio","type":"f64","min":0.5,"max":2.0}"#);
        assert_eq!(bad_values(&python).unwrap(), ["-0.5", "3", "abc", ""]);
        let path = flag(r#"{"name":"dir","type":"path"}"#);
        assert_eq!(bad_values(&path).unwrap(), ["/nonexistent/workbook-bad-input"]);
        assert!(bad_values(&flag(r#"{"name":"quiet","type":"bool"}"#)).unwrap().is_empty());
    }

    #[test]
    fn a_numeric_flag_without_a_range_fails() {
        let loose = flag(r#"{"name":"pages","type":"u64","min":null,"max":null}"#);
        let error = bad_values(&loose).unwrap_err().to_string();
        assert_eq!(error, "a numeric flag must declare its range (value_parser = ...range(..))");
    }

    #[test]
    fn the_tested_flag_is_taken_out_of_the_quick_flags() {
        let quick: Vec<String> = ["--pages", "3", "--quiet", "--dir", "x"].map(String::from).into();
        assert_eq!(without(&quick, "pages"), ["--quiet", "--dir", "x"]);
        assert_eq!(without(&quick, "dir"), ["--pages", "3", "--quiet"]);
    }
}
