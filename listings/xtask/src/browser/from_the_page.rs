//! Runs from the page, driven in Chromium as a reader would drive them on
//! the book `cargo xtask serve` serves: open a listing's "Run on this
//! machine", wait for its form, choose the quick sizes, run, and expect its
//! lines to stream in, then its verdict, its figures beside the book's and
//! every figure it feeds drawn again; then start a long run, cancel it, and
//! expect no process of its group (the listing and every process it
//! started) to be left running.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::chromium::Browser;
use super::tab::Tab;

/// How long the form may take to appear (the server builds the listing if
/// it is not built) and a quick run to end.
const FORM: Duration = Duration::from_secs(180);
const RUN: Duration = Duration::from_secs(60);

/// What the check saw.
#[derive(Debug, Default)]
pub struct Ran {
    /// Listings run from their page, each with its verdict.
    pub runs: usize,
    /// Figures drawn again with a run's series.
    pub figures: usize,
    /// The slowest answer of the page to a script while a listing ran.
    pub slowest_eval_ms: f64,
    /// How long after it was printed the latest line reached the page.
    pub latest_line_ms: f64,
    /// The seconds the runs took, from Run to verdict.
    pub run_seconds: f64,
    /// How long after Cancel no process of the cancelled run still ran.
    pub cancel_ms: f64,
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} listings run from their page in {:.1} s, each line on the page at most {:.0} ms after it was printed, {} figures drawn again, the page answered within {:.0} ms while they ran, a cancelled run gone in {:.0} ms",
            self.runs,
            self.run_seconds,
            self.latest_line_ms,
            self.figures,
            self.slowest_eval_ms,
            self.cancel_ms
        )
    }
}

/// The block of `listing` on the page, as a JavaScript expression.
fn block(listing: &str) -> String {
    format!("document.querySelector('.workbook-run[data-listing=\"{listing}\"]')")
}

/// Runs each `(page, listing)` of `quick` at its quick sizes, then `long`
/// at the book's sizes, cancelled two seconds in; `site` is the served
/// book's address (`http://127.0.0.1:PORT/`).
pub fn check(site: &str, quick: &[(&str, &str)], long: (&str, &str)) -> Result<Ran> {
    let browser = Browser::launch()?;
    let mut tab = Tab::open(&browser)?;
    let mut ran = Ran::default();
    let mut problems = Vec::new();
    for (page, listing) in quick {
        match run_one(&mut tab, site, page, listing, &mut ran) {
            Ok(()) => ran.runs += 1,
            Err(problem) => problems.push(format!("{listing} on {page}: {problem:#}")),
        }
    }
    match cancel_one(&mut tab, site, long.0, long.1) {
        Ok(ms) => ran.cancel_ms = ms,
        Err(problem) => problems.push(format!("cancelling {} on {}: {problem:#}", long.1, long.0)),
    }
    if !problems.is_empty() {
        bail!("runs from the page: {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    }
    Ok(ran)
}

/// Opens the listing's block and waits for its form.
fn open_form(tab: &mut Tab, site: &str, page: &str, listing: &str) -> Result<()> {
    tab.navigate(&format!("{site}{page}"))?;
    let block = block(listing);
    let shown =
        tab.eval(&format!("(() => {{ const b = {block}; return !!b && !b.hidden; }})()"))?;
    if shown != true {
        bail!("no visible run block for it");
    }
    if let Err(why) = tab.click(&format!("{block}.querySelector('summary')"))? {
        bail!("its summary cannot be clicked: {why}");
    }
    let form = tab.eval_until(
        &format!("(() => {{ const b = {block}, status = b.querySelector('.run-status');
            if (b.querySelector('form.run-form')) return 'form';
            return status && !status.textContent.startsWith('Building') ? status.textContent : ''; }})()"),
        FORM,
    )?;
    if form != "form" {
        bail!("no form within {} s: {form}", FORM.as_secs());
    }
    Ok(())
}

/// Clicks the button of the listing's form whose text is `text`.
fn press(tab: &mut Tab, listing: &str, text: &str) -> Result<()> {
    let button = format!(
        "[...{}.querySelectorAll('button')].find(b => b.textContent === '{text}')",
        block(listing)
    );
    if let Err(why) = tab.click(&button)? {
        bail!("its {text} button cannot be clicked: {why}");
    }
    Ok(())
}

fn run_one(tab: &mut Tab, site: &str, page: &str, listing: &str, ran: &mut Ran) -> Result<()> {
    open_form(tab, site, page, listing)?;
    let block = block(listing);
    press(tab, listing, "Quick sizes")?;
    let started = Instant::now();
    press(tab, listing, "Run")?;
    let verdict = format!("{block}.querySelector('.run-verdict').textContent");
    loop {
        // The page answers while the listing runs and its lines stream in.
        let asked = Instant::now();
        let said = tab.eval(&verdict)?;
        ran.slowest_eval_ms = ran.slowest_eval_ms.max(asked.elapsed().as_secs_f64() * 1e3);
        if !said.as_str().unwrap_or("").is_empty() {
            break;
        }
        if started.elapsed() > RUN {
            bail!("no verdict within {} s", RUN.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ran.run_seconds += started.elapsed().as_secs_f64();
    let result = tab.eval(&format!(
        "(() => {{ const b = {block};
            return {{state: b.querySelector('.run-verdict').className, verdict: b.querySelector('.run-verdict').textContent,
              output: b.querySelector('.run-output').textContent.slice(-600),
              metrics: b.querySelectorAll('.run-metrics tr').length,
              command: b.querySelector('.run-command').textContent,
              feeds: [...document.querySelectorAll('figure.workbook-figure[data-figure]')].filter(f => f.dataset.figure.split(/[ ,]/).some(w => w === '{listing}' || w.startsWith('{listing}:'))).length,
              lines: b.querySelectorAll('.run-output span').length,
              late: Math.max(0, ...[...b.querySelectorAll('.run-output span')].map(s => Number(s.dataset.late))),
              redrawn: [...document.querySelectorAll('figure.run-redrawn')].filter(f => f.textContent.includes('(this run)')).length}}; }})()"
    ))?;
    let state = result["state"].as_str().unwrap_or("");
    if !(state.contains("run-held") || state.contains("run-skipped")) {
        bail!(
            "its verdict: {} ({state})\n--- its output, last lines ---\n{}",
            result["verdict"].as_str().unwrap_or(""),
            result["output"].as_str().unwrap_or("")
        );
    }
    // Each line as it was printed: none reached the page more than 1 s late.
    let late = result["late"].as_f64().unwrap_or(f64::INFINITY);
    if result["lines"].as_u64().unwrap_or(0) == 0 || late > 1000.0 {
        bail!("its output did not stream: {} lines, the latest {late} ms late", result["lines"]);
    }
    ran.latest_line_ms = ran.latest_line_ms.max(late);
    if result["metrics"].as_u64().unwrap_or(0) < 2 {
        bail!("no figures beside the book's");
    }
    if !result["command"]
        .as_str()
        .unwrap_or("")
        .contains(listing.split('/').next_back().unwrap_or(""))
    {
        bail!("no command to run it in a terminal");
    }
    let (feeds, redrawn) = (result["feeds"].as_u64(), result["redrawn"].as_u64());
    if feeds != redrawn {
        bail!("it feeds {feeds:?} figures on the page, {redrawn:?} were drawn again with its run");
    }
    ran.figures += redrawn.unwrap_or(0) as usize;
    Ok(())
}

/// Starts `listing` at the book's sizes, cancels it two seconds in, and
/// waits for its process group to be gone; the milliseconds that took.
fn cancel_one(tab: &mut Tab, site: &str, page: &str, listing: &str) -> Result<f64> {
    open_form(tab, site, page, listing)?;
    let block = block(listing);
    press(tab, listing, "Run")?;
    let group = tab.eval_until(
        &format!("Number({block}.querySelector('.run-output').dataset.group || 0)"),
        RUN,
    )?;
    let group = group.as_i64().filter(|g| *g > 1).context("it never said it started")?;
    // Well under way: for a listing that starts processes of its own, they run.
    std::thread::sleep(Duration::from_secs(2));
    let cancelled = Instant::now();
    press(tab, listing, "Cancel")?;
    let verdict = tab.eval_until(
        &format!("{block}.querySelector('.run-verdict').className.includes('run-stopped')"),
        RUN,
    )?;
    if verdict != true {
        bail!("no 'stopped' verdict after Cancel");
    }
    while let Some(left) = running_in_group(group as i32).first() {
        if cancelled.elapsed() > Duration::from_secs(5) {
            bail!("process {left} of group {group} still runs 5 s after Cancel");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(cancelled.elapsed().as_secs_f64() * 1e3)
}

/// The processes of process group `group` that still run: not the zombies,
/// which have ended and wait for their new parent (init, in a container
/// sometimes slow) to collect them.
fn running_in_group(group: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let fields: Vec<&str> =
                stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
            fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(group)
                && fields.first().is_some_and(|state| *state != "Z")
        })
        .collect()
}
