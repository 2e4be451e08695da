//! `cargo xtask compare [REV]`: every metric of the outputs committed at REV
//! (the last commit by default) beside the working tree's re-measured ones,
//! with their ratio, so a reader sees at a glance how their machine differs
//! from the one that built the book.

use std::fmt::Write;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::output::{Output, format_figure};
use crate::project::Project;

/// One re-measured listing beside its committed output.
struct Compared {
    listing: String,
    then: String,
    now: String,
    /// Each metric: its name, the committed figure, the reader's, the ratio.
    rows: Vec<[String; 4]>,
}

/// Every re-measured output beside the one committed at `rev`.
fn compared(project: &Project, rev: &str) -> Result<Vec<Compared>> {
    let mut found = Vec::new();
    for listing in &project.listings()? {
        let path = project.output_path(listing);
        let Ok(now) = Output::load(&path) else {
            continue;
        };
        let Some(then) = committed(project, rev, &project.relative(&path))? else {
            continue;
        };
        if then.measured_at == now.measured_at && then.machine == now.machine {
            continue;
        }
        let machine = |o: &Output| {
            let date = o.measured_at.get(..10).unwrap_or(&o.measured_at);
            format!("{} ({}, {date})", o.machine.cpu, crate::condition::cores(o.machine.cores))
        };
        let rows = now
            .metrics
            .iter()
            .map(|(name, metric)| {
                let (before, ratio) = match then.metrics.get(name) {
                    Some(old) if old.median != 0.0 => (
                        format_figure(old.median, &old.unit),
                        format!("{:.2}x", metric.median / old.median),
                    ),
                    Some(old) => (format_figure(old.median, &old.unit), "-".into()),
                    None => ("(new)".into(), "-".into()),
                };
                [name.clone(), before, format_figure(metric.median, &metric.unit), ratio]
            })
            .collect();
        found.push(Compared {
            listing: listing.id(),
            then: machine(&then),
            now: machine(&now),
            rows,
        });
    }
    if found.is_empty() {
        bail!(
            "no output differs from {rev}: re-measure first (`cargo xtask measure --all`, or a chapter), then compare"
        );
    }
    Ok(found)
}

/// The comparison as text: a block per re-measured listing.
pub fn compare(project: &Project, rev: &str) -> Result<String> {
    let found = compared(project, rev)?;
    let mut text =
        format!("{} re-measured output(s), against {rev}; ratio = yours / {rev}", found.len());
    for one in &found {
        let _ = writeln!(text, "\n{}: {} then, {} now", one.listing, one.then, one.now);
        let width = one.rows.iter().map(|r| r[0].len()).max().unwrap_or(6).max(6);
        let _ =
            writeln!(text, "  {:width$}  {:>12}  {:>12}  {:>8}", "metric", rev, "yours", "ratio");
        for [name, before, now, ratio] in &one.rows {
            let _ = writeln!(text, "  {name:width$}  {before:>12}  {now:>12}  {ratio:>8}");
        }
    }
    Ok(text)
}

/// The comparison as a page of the book, for `cargo xtask book --compare`.
pub fn page(project: &Project, rev: &str) -> Result<String> {
    let found = compared(project, rev)?;
    let mut page = format!(
        "# Your machine beside the book's\n\n\
         Every figure you re-measured, beside the one committed at `{rev}`, and their \
         ratio (yours / `{rev}`). The chapters show your figures; their sentences follow \
         them (`{{{{#if}}}}`), and a sentence your figures would contradict stops the build \
         (`{{{{#assert}}}}`).\n"
    );
    for one in &found {
        let _ = write!(
            page,
            "\n## {}\n\n{} then, {} now.\n\n| metric | `{rev}` | yours | ratio |\n|---|--:|--:|--:|\n",
            one.listing, one.then, one.now
        );
        for [name, before, now, ratio] in &one.rows {
            let _ = writeln!(page, "| `{name}` | {before} | {now} | {ratio} |");
        }
    }
    Ok(page)
}

/// The output committed at `rev`, if the file existed there.
fn committed(project: &Project, rev: &str, path: &str) -> Result<Option<Output>> {
    let shown = Command::new("git")
        .current_dir(&project.root)
        .args(["show", &format!("{rev}:{path}")])
        .output()
        .context("cannot run git")?;
    if !shown.status.success() {
        let stderr = String::from_utf8_lossy(&shown.stderr);
        if stderr.contains("does not exist") || stderr.contains("exists on disk, but not in") {
            return Ok(None);
        }
        bail!("git cannot show {rev}:{path}: {}", stderr.trim());
    }
    let output = serde_json::from_slice(&shown.stdout)
        .with_context(|| format!("{rev}:{path} is not a measured output"))?;
    Ok(Some(output))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{listing, workbook};

    #[test]
    fn a_re_measured_metric_is_shown_beside_the_committed_one() {
        let (dir, project) = workbook();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .current_dir(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "book"]);
        let error = compare(&project, "HEAD").unwrap_err().to_string();
        assert!(error.starts_with("no output differs from HEAD"), "{error}");

        let waiting = listing(&project, "ch99/waiting");
        let path = project.output_path(&waiting);
        let mut output = Output::load(&path).unwrap();
        output.machine.cores = 16;
        output.measured_at = "2027-01-01T00:00:00Z".into();
        output.metrics.get_mut("wait").unwrap().median = 10.246;
        output.save(&path).unwrap();
        let text = compare(&project, "HEAD").unwrap();
        assert_eq!(
            text,
            "1 re-measured output(s), against HEAD; ratio = yours / HEAD\n\
             ch99/waiting: Test CPU (2 cores, 2026-01-02) then, Test CPU (16 cores, 2027-01-01) now\n  \
             metric          HEAD         yours     ratio\n  \
             wait         5.12 ms       10.2 ms     2.00x\n"
        );
        let page = page(&project, "HEAD").unwrap();
        assert!(page.starts_with("# Your machine beside the book's\n"), "{page}");
        assert!(page.ends_with("| `wait` | 5.12 ms | 10.2 ms | 2.00x |\n"), "{page}");
    }
}
