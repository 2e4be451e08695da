//! The `{{#versus}}` table: a Python twin's figure beside its Rust
//! listing's, and their ratio, computed from the two outputs, never typed.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::output::{Output, Quoted};

/// One row of a `versus` table: a Python twin's metric beside a Rust
/// listing's, measuring the same quantity.
pub struct Comparison<'a> {
    pub python: &'a Output,
    pub python_metric: &'a str,
    pub rust: &'a Output,
    pub rust_metric: &'a str,
    /// The two did the very same work, so a ratio of their times means
    /// something; without it, a ratio of times is refused.
    pub same_work: bool,
    pub label: &'a str,
}

/// Units of time: a ratio of two is only shown for the same work.
const TIME_UNITS: [&str; 5] = ["ns", "µs", "us", "ms", "s"];

/// `name` as the text quotes it from `output`, or which metrics it has.
fn quoted<'a>(output: &'a Output, name: &str) -> Result<Quoted<'a>, String> {
    output.quoted(name).ok_or_else(|| {
        let known: Vec<&str> = output.metrics.keys().map(String::as_str).collect();
        format!("{} reports no metric `{name}` (it reports: {})", output.listing, known.join(", "))
    })
}

/// The side-by-side table: each quantity, its CPython and Rust figures and
/// their ratio, computed here from the two outputs, never typed.
pub fn versus(rows: &[Comparison<'_>]) -> Result<String, String> {
    let mut table = String::new();
    let first = rows.first().ok_or("versus compares at least one pair")?;
    let interpreter = first.python.machine.python.as_deref().unwrap_or("CPython");
    let _ = writeln!(
        table,
        "| measured here | {interpreter} | Rust ({}) | CPython ÷ Rust |\n|---|--:|--:|--:|",
        first.rust.machine.rustc
    );
    for row in rows {
        let python = quoted(row.python, row.python_metric)?;
        let rust = quoted(row.rust, row.rust_metric)?;
        let unit = &python.metric.unit;
        if *unit != rust.metric.unit {
            return Err(format!(
                "`{}` is in {:?} and `{}` in {:?}: versus refuses a ratio of unlike units",
                row.python_metric, unit, row.rust_metric, rust.metric.unit
            ));
        }
        if TIME_UNITS.contains(&unit.as_str()) && !row.same_work {
            return Err(format!(
                "`{}` and `{}` are times: a ratio of times is shown only for the same work, or a time per event measured alike; say `same-work` or `per-event` if it is",
                row.python_metric, row.rust_metric
            ));
        }
        if row.label.is_empty() {
            return Err("each pair needs what it measures after `|`".into());
        }
        let ratio = if rust.value == 0.0 {
            "n/a".to_string()
        } else {
            let ratio = python.value / rust.value;
            let digits = match ratio.abs() {
                r if r >= 100.0 => 0,
                r if r >= 10.0 => 1,
                r if r >= 0.1 => 2,
                _ => 3,
            };
            format!("{ratio:.digits$}×")
        };
        let _ =
            writeln!(table, "| {} | {} | {} | {ratio} |", row.label, python.shown(), rust.shown(),);
    }
    let mut listings: Vec<&str> = Vec::new();
    for row in rows {
        for listing in [&row.python.listing, &row.rust.listing] {
            if !listings.contains(&listing.as_str()) {
                listings.push(listing);
            }
        }
    }
    let machines: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| [r.python, r.rust])
        .map(|o| format!("{} ({})", o.machine.cpu, crate::condition::cores(o.machine.cores)))
        .collect();
    let machine = match machines.len() {
        1 => format!(
            "on the machine that built this page, {}",
            machines.first().map_or("", String::as_str)
        ),
        _ => format!(
            "on different machines ({}): re-measure both to compare them",
            machines.into_iter().collect::<Vec<_>>().join("; ")
        ),
    };
    let _ = write!(
        table,
        "\n*Medians from the measured outputs of {}, {machine}.*\n",
        listings.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
    );
    Ok(table)
}
