//! The workbook's conventions as a check over the source tree, in the manner
//! of rust-analyzer's tidy test: every listing (Rust or Python) at most 150
//! lines, its claim line at most 100 columns, no measuring or reporting call
//! inside an anchor (what a page shows is the lesson), and no symlink under
//! `listings/`. (Every Rust listing is in its chapter's tour by construction:
//! `tours.rs` writes the tours from `measure.toml`.)
//!
//! What the book held before the check existed is listed in
//! `listings/xtask/tidy-baseline.txt`; like the prose baseline, it only
//! shrinks: a listed problem that is fixed must leave it, a new one cannot
//! join it.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use crate::project::{Listing, Project};

/// The baseline of problems the book had when the check began.
pub const BASELINE: &str = "listings/xtask/tidy-baseline.txt";

/// The most lines a listing may have.
pub const MAX_LINES: usize = 150;

/// The widest a claim line may be.
pub const MAX_CLAIM: usize = 100;

/// Calls that measure or report, which belong after the lesson.
const MEASURING: [&str; 8] = [
    "metric(",
    "series(",
    "verdict(",
    "Table::new",
    "report::",
    "workbook.metric",
    "workbook.series",
    "workbook.Table",
];

/// Every problem of one listing's source, each as `rule: path`.
pub fn listing_problems(path: &str, source: &str, python: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = source.lines().collect();
    if lines.len() > MAX_LINES {
        problems.push(format!("over {MAX_LINES} lines: {path}"));
    }
    let claim = if python {
        lines.first().map(|l| l.trim_start_matches("\"\"\""))
    } else {
        lines.iter().find_map(|l| l.strip_prefix("//! "))
    };
    if claim.is_some_and(|c| c.chars().count() > MAX_CLAIM) {
        problems.push(format!("claim over {MAX_CLAIM} columns: {path}"));
    }
    let mut inside = 0usize;
    for line in &lines {
        let code = line.trim_start();
        let comment = code.strip_prefix("//").or_else(|| code.strip_prefix('#'));
        match comment.map(str::trim_start) {
            Some(rest) if rest.starts_with("ANCHOR:") => inside += 1,
            Some(rest) if rest.starts_with("ANCHOR_END:") => inside = inside.saturating_sub(1),
            _ if inside > 0
                && MEASURING.iter().any(|call| code.contains(call))
                && !crate::preprocess::is_measuring(code) =>
            {
                problems.push(format!("measuring inside an anchor: {path}"));
                break;
            }
            _ => {}
        }
    }
    problems
}

/// Every problem of the workbook, each as `rule: path`.
pub fn problems(project: &Project, listings: &[Listing]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for listing in listings.iter().filter(|l| l.spec.compile_fail.is_none()) {
        let path = project.source(listing);
        let source = std::fs::read_to_string(&path)?;
        let relative = project.relative(&path);
        found.extend(listing_problems(&relative, &source, listing.spec.python));
    }
    found.extend(symlinks(project, &project.workspace())?);
    Ok(found)
}

fn symlinks(project: &Project, dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            found.push(format!("a symlink: {}", project.relative(&path)));
        } else if kind.is_dir() {
            found.extend(symlinks(project, &path)?);
        }
    }
    Ok(found)
}

/// The problems that the baseline does not excuse, and the baseline lines
/// that excuse nothing any more.
pub fn against_baseline(found: &[String], baseline: &str) -> Vec<String> {
    let listed: BTreeSet<&str> =
        baseline.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let now: BTreeSet<&str> = found.iter().map(String::as_str).collect();
    let mut problems: Vec<String> =
        found.iter().filter(|p| !listed.contains(p.as_str())).cloned().collect();
    problems.extend(
        listed.difference(&now).map(|fixed| {
            format!("{BASELINE} lists `{fixed}`, which is fixed now: remove the line")
        }),
    );
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_convention_fails_when_broken() {
        let long = format!("//! A claim.\n{}", "fn f() {}\n".repeat(MAX_LINES));
        assert_eq!(listing_problems("a.rs", &long, false), ["over 150 lines: a.rs"]);
        let wide = format!("//! {}\nfn main() {{}}\n", "word ".repeat(30));
        assert_eq!(listing_problems("b.rs", &wide, false), ["claim over 100 columns: b.rs"]);
        let measuring = "//! A claim.\n// ANCHOR: lesson\nreport::metric(\"x\", 1.0, \"ms\");\n// ANCHOR_END: lesson\n";
        assert_eq!(
            listing_problems("c.rs", measuring, false),
            ["measuring inside an anchor: c.rs"]
        );
        let hidden = "//! A claim.\n// ANCHOR: lesson\nreport::metric(\"x\", 1.0, \"ms\"); // measuring\n// ANCHOR_END: lesson\n";
        assert!(listing_problems("h.rs", hidden, false).is_empty(), "a marked line is hidden");
        let after = "//! A claim.\n// ANCHOR: lesson\nlet x = 1;\n// ANCHOR_END: lesson\nreport::metric(\"x\", 1.0, \"ms\");\n";
        assert!(listing_problems("d.rs", after, false).is_empty());
        let python = "\"\"\"A claim.\"\"\"\n# ANCHOR: lesson\nworkbook.metric(\"x\", 1, \"ms\")\n# ANCHOR_END: lesson\n";
        assert_eq!(listing_problems("e.py", python, true), ["measuring inside an anchor: e.py"]);

        let found = vec!["over 150 lines: a.rs".to_string()];
        assert_eq!(against_baseline(&found, ""), found);
        assert!(against_baseline(&found, "# old\nover 150 lines: a.rs\n").is_empty());
        assert_eq!(
            against_baseline(&[], "over 150 lines: a.rs\n"),
            [format!(
                "{BASELINE} lists `over 150 lines: a.rs`, which is fixed now: remove the line"
            )]
        );
    }

    #[test]
    fn a_symlink_is_found() {
        let (dir, project) = crate::fixture::workbook();
        std::os::unix::fs::symlink(
            dir.path().join("listings/ch99/src/bin/waiting.rs"),
            dir.path().join("listings/ch99/src/linked.rs"),
        )
        .unwrap();
        let listings = project.listings().unwrap();
        let found = problems(&project, &listings).unwrap();
        assert!(found.contains(&"a symlink: listings/ch99/src/linked.rs".to_string()), "{found:?}");
    }
}
