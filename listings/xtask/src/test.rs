//! `cargo xtask test`: every test and check the workbook has, in order from
//! cheapest to dearest, stopping at the first that fails.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::book;
use crate::browser;
use crate::compile_fail;
use crate::preflight;
use crate::project::{Listing, Project};
use crate::run::{self, cargo};

/// Runs every step; each names what failed and how to see it alone.
pub fn test(project: &Project) -> Result<()> {
    let started = Instant::now();
    let workspace = project.workspace();
    let step = |title: &str| {
        eprintln!("\n=== test: {title} ({:.0} s elapsed) ===", started.elapsed().as_secs_f64())
    };

    step("preflight: the tools the tests need");
    preflight::preflight(preflight::TOOLS, &preflight::Host::current())?;
    eprintln!("preflight: every tool is here ({:.2} s)", started.elapsed().as_secs_f64());

    step("formatting (cargo fmt --check)");
    run(cargo().current_dir(&workspace).args(["fmt", "--all", "--check"]), "cargo fmt --all")?;

    step("clippy, warnings denied");
    let clippy = ["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"];
    run(cargo().current_dir(&workspace).args(clippy), "cargo clippy")?;
    let starters = [
        "clippy",
        "-p",
        "exercises",
        "--all-targets",
        "--features",
        "starters",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ];
    run(cargo().current_dir(&workspace).args(starters), "cargo clippy on the starters")?;

    step("outputs fresh, measure.toml consistent, the book builds");
    let rendered = book::check(project)?;

    step("unit tests, doc tests, exercise solutions");
    // The listings' binaries hold no tests: `--lib --test '*'` leaves out
    // compiling each one as a test harness, which the quick runs would
    // follow by compiling it again as a program (`run::build`).
    let tests = ["test", "--workspace", "--exclude", "xtask", "--lib", "--test", "*"];
    run(cargo().current_dir(&workspace).args(tests), "cargo test --lib --test '*'")?;
    let doc = ["test", "--workspace", "--exclude", "xtask", "--doc"];
    run(cargo().current_dir(&workspace).args(doc), "cargo test --doc")?;
    run(
        cargo().current_dir(&workspace).args(["test", "-p", "xtask", "--profile", "xtask"]),
        "cargo test -p xtask",
    )?;

    step(
        "the book in headless Chromium: no console error, outputs, links, search, quizzes, axe-core",
    );
    // The contrast in every theme is checked on chapter 6, which has every
    // kind of element: code, outputs, figures, tables, a prediction, a quiz.
    let accessibility =
        browser::Accessibility { axe: preflight::AXE.path(), themes_page: "ch06.html".into() };
    let report = browser::check_site(rendered.path(), "epoll", "ch01.html", Some(&accessibility))?;
    eprintln!("browser: {report}");
    step("the book printed to PDF: every chapter, figure and output, nothing wider than the page");
    let scratch = tempfile::tempdir()?;
    let printed = browser::pdf::print(rendered.path(), &scratch.path().join("book.pdf"))?;
    eprintln!(
        "pdf: {} pages, {} chapters, {} figures, {} outputs, in {:.1} s",
        printed.pages, printed.chapters, printed.figures, printed.outputs, printed.seconds
    );

    step("exercise starters fail their tests");
    starters_fail(project)?;

    step("the student pack builds on its own, offline");
    student_pack(project)?;

    step("every listing once, in quick mode, and bad input for every flag");
    quick_runs(project, &project.listings()?, Cores::All)?;
    tours_list_their_listings(project)?;

    step("every listing once more, in quick mode, on one core: claims true on a one-core machine");
    quick_runs(project, &project.listings()?, Cores::One)?;

    step("runs from the page: a listing of each chapter run, one cancelled, in Chromium");
    from_the_page(project)?;

    eprintln!("\ntest: every step passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The listings the browser runs from their page at quick sizes, one or more
/// per chapter (figures, a twin, a listing that starts Redis among them),
/// and the one it starts at the book's sizes and cancels.
const FROM_THE_PAGE: &[(&str, &str)] = &[
    ("ch01.html", "ch01/blocking_fetch"),
    ("ch02.html", "ch02/interpreter_lock"),
    ("ch03.html", "ch03/main_returns"),
    ("ch04.html", "ch04/pipe_serialization"),
    ("ch05.html", "ch05/future_size"),
    ("ch06.html", "ch06/mini_loop"),
    ("ch06.html", "ch06/asyncio_task_group"),
    ("ch07.html", "ch07/blocking_on_loop"),
    ("ch08.html", "ch08/chess_exhibition"),
    ("ch09.html", "ch09/broker_hop"),
];
const CANCELLED: (&str, &str) = ("ch06.html", "ch06/runtime_table");

/// Serves the book as `cargo xtask serve` does (the listings in the dev
/// profile the quick runs built) and drives runs from its pages. Alone:
/// `cargo test -p xtask --profile xtask -- --ignored runs_from_the_page`.
fn from_the_page(project: &Project) -> Result<()> {
    let port = crate::serve::start(project, 0, false)?;
    let site = format!("http://127.0.0.1:{port}/");
    let ran = browser::from_the_page::check(&site, FROM_THE_PAGE, CANCELLED)?;
    eprintln!("from the page: {ran}");
    Ok(())
}

/// Runs `command` to its end; an error names `what` if it fails.
pub fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Each starter compiles and fails every test, so the tests really test.
fn starters_fail(project: &Project) -> Result<()> {
    let output = cargo()
        .current_dir(project.workspace())
        .args([
            "test",
            "-p",
            "exercises",
            "--features",
            "starters",
            "--no-fail-fast",
            "--",
            "--test-threads",
            "2",
        ])
        .stderr(Stdio::piped())
        .output()
        .context("cannot start cargo test on the starters")?;
    // cargo reports the expected failures as errors on stderr; it is shown
    // only when the outcome is wrong, so a green log reads green.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let (passed, failed) = starter_verdicts(&stdout);
    if failed.is_empty() {
        bail!("the starters ran no test at all:\n{stdout}\n{stderr}");
    }
    if !passed.is_empty() {
        bail!(
            "these tests pass against the starters, so they cannot tell a solution from a todo!(): {}",
            passed.join(", ")
        );
    }
    eprintln!("starters: all {} tests fail, as they must", failed.len());
    Ok(())
}

/// The names of the tests that passed and failed, from libtest's output.
fn starter_verdicts(stdout: &str) -> (Vec<String>, Vec<String>) {
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some(name) = rest.strip_suffix(" ... ok") {
            passed.push(name.to_string());
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            failed.push(name.to_string());
        }
    }
    (passed, failed)
}

/// The student pack has no solution and compiles outside the workspace.
fn student_pack(project: &Project) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let pack = scratch.path().join("pack");
    crate::exercises::pack(project, &pack, false)?;
    let target = project.target_dir();
    run(
        cargo().current_dir(&pack).env("CARGO_TARGET_DIR", target).args([
            "test",
            "--offline",
            "--no-run",
            "--quiet",
        ]),
        "cargo test --no-run in the student pack",
    )?;
    let solutions =
        std::process::Command::new("find").arg(&pack).args(["-name", "solution.rs"]).output()?;
    if !solutions.stdout.is_empty() {
        bail!(
            "the student pack contains solutions:\n{}",
            String::from_utf8_lossy(&solutions.stdout)
        );
    }
    Ok(())
}

/// The CPUs the quick runs may use.
#[derive(Clone, Copy, PartialEq)]
pub enum Cores {
    /// Those xtask has; each listing's bad input is tried too.
    All,
    /// One, as a one-core VM has: each listing and what it starts is pinned
    /// to xtask's first CPU (sched_setaffinity, which `available_parallelism`
    /// and `os.sched_getaffinity` see).
    One,
}

/// Every listing once with its quick flags: its claim must hold, or be
/// skipped for want of what the machine lacks.
pub fn quick_runs(project: &Project, listings: &[Listing], cores: Cores) -> Result<()> {
    let mut programs = run::programs(project, listings, false)?;
    let pinned = match cores {
        Cores::One => Some(run::first_cpu()?),
        Cores::All => None,
    };
    programs.values_mut().for_each(|program| program.cpu = pinned);
    let on = if pinned.is_some() { " on one core" } else { "" };
    for listing in listings {
        if let Some(code) = &listing.spec.compile_fail {
            compile_fail::compile_failure(project, listing)?;
            eprintln!("quick: {listing} still fails to compile ({code})");
            continue;
        }
        let timeout = Duration::from_secs(listing.spec.timeout_s);
        let program = &programs[&listing.id()];
        let refused = match cores {
            Cores::All => crate::bad_input::check(listing, program)?,
            Cores::One => 0,
        };
        let quick = &listing.spec.quick;
        let run = match run::run_once(listing, program, quick, timeout, None) {
            // A claim that fails once may have met a noisy moment (another
            // process on the core, a cold cache); it must hold when run again,
            // and the log says it needed the second run. Crashes are not retried.
            Err(e) if e.downcast_ref::<run::ClaimFailed>().is_some() => {
                eprintln!("quick: {e:#}\nquick: running it once more");
                run::run_once(listing, program, quick, timeout, None)
                    .with_context(|| format!("{listing} failed its claim twice in a row"))?
            }
            other => other?,
        };
        let verdict = match &run.reported.verdict {
            Some(verdict) => {
                format!("claim {}: {} ({})", verdict.state, verdict.claim, verdict.evidence)
            }
            None => run
                .stdout
                .lines()
                .rev()
                .find(|l| l.starts_with("claim holds"))
                .unwrap_or("(no verdict line)")
                .to_string(),
        };
        let refused = match cores {
            Cores::All => format!("; refused {refused} bad command lines"),
            Cores::One => String::new(),
        };
        eprintln!(
            "quick: {listing} passed{on} in {:.2} s: {verdict}{refused}",
            run.elapsed.as_secs_f64()
        );
    }
    eprintln!("quick: {} passed{on}, 0 failed", listings.len());
    Ok(())
}

/// Each chapter's tour (built by the quick runs) lists the chapter's
/// runnable listings in book order, and refuses a bad flag as a listing does.
fn tours_list_their_listings(project: &Project) -> Result<()> {
    let listings = project.listings()?;
    for chapter in project.chapters()? {
        let tour = project.target_dir().join("debug").join(&chapter);
        let listed = Command::new(&tour).arg("--list").output()?;
        let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter_map(|line| line.split_whitespace().next().map(String::from))
            .collect();
        let expected: Vec<String> = listings
            .iter()
            .filter(|l| l.chapter == chapter && !l.spec.python && l.spec.compile_fail.is_none())
            .map(|l| l.spec.name.clone())
            .collect();
        if !listed.status.success() || names != expected {
            bail!("`cargo run -p {chapter} -- --list` gave {names:?}, not {expected:?}");
        }
        let bad = Command::new(&tour).arg("--no-such-flag").output()?;
        let stderr = String::from_utf8_lossy(&bad.stderr);
        if bad.status.code() != Some(2) || stderr.lines().count() != 1 || !bad.stdout.is_empty() {
            bail!(
                "`cargo run -p {chapter} -- --no-such-flag` must print one line and exit 2:\n{stderr}"
            );
        }
    }
    eprintln!("tours: each lists its listings and refuses a bad flag");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    #[ignore = "drives the real book in Chromium, as the last step of cargo xtask test"]
    fn runs_from_the_page() {
        super::from_the_page(&crate::project::Project::here()).unwrap();
    }

    use super::starter_verdicts;

    #[test]
    fn starter_verdicts_are_read_from_libtest_output() {
        let stdout =
            "running 3 tests\ntest a::one ... FAILED\ntest a::two ... ok\ntest b ... FAILED\n";
        let (passed, failed) = starter_verdicts(stdout);
        assert_eq!(passed, ["a::two"]);
        assert_eq!(failed, ["a::one", "b"]);
    }
}
