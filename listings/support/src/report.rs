//! What a listing prints, and what `cargo xtask measure` records from it.
//!
//! A listing prints for its reader: [`heading`]s, [`Table`]s, sentences. The
//! figures the book quotes in its prose are also reported by name with
//! [`metric`] (and whole curves with [`series`]). When the environment
//! variable [`METRICS_ENV`] names a file, as it does while `cargo xtask
//! measure` runs the listing, each of them is appended to that file as one
//! JSON line; otherwise they cost nothing and print nothing. [`figure`]
//! reports one and returns it for a table cell or the evidence, so a figure
//! is declared once. The listing ends
//! with [`verdict`], which checks its claim and sets the exit code (or with
//! [`skipped`] or [`unchecked`]); the verdict is recorded as a line too.
//! This is the API boundary between listings and `cargo xtask`
//! (ARCHITECTURE.md); `support/python/workbook.py` speaks it for the twins.
//!
//! ```
//! use support::report;
//!
//! let wall_ms = 512.3;
//! report::metric("wall", wall_ms, "ms");
//! let code = report::verdict(
//!     "ten 50 ms fetches take about 500 ms",
//!     wall_ms > 450.0,
//!     &format!("{wall_ms:.0} ms"),
//! );
//! assert_eq!(code, std::process::ExitCode::SUCCESS);
//! ```

use std::fs::OpenOptions;
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

/// The environment variable that names the file metrics are appended to.
pub const METRICS_ENV: &str = "WORKBOOK_METRICS";

/// One line of the metrics file.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Record<'a> {
    Metric { name: &'a str, value: f64, unit: &'a str },
    Series { name: &'a str, x_unit: &'a str, y_unit: &'a str, points: &'a [(f64, f64)] },
    Verdict { state: &'a str, claim: &'a str, evidence: &'a str },
}

/// The exit code of a claim that held.
pub const EXIT_HELD: u8 = 0;
/// The exit code of a claim that failed.
pub const EXIT_FAILED: u8 = 1;
/// The exit code of bad input (a bad flag, a folder that does not exist).
pub const EXIT_BAD_INPUT: u8 = 2;
/// The exit code of a claim the machine could not check (it lacks a
/// second core, or root): not a failure.
pub const EXIT_SKIPPED: u8 = 3;
/// The exit code of a run whose flags left nothing to check.
pub const EXIT_UNCHECKED: u8 = 4;

/// Reports the named figure `value`, in `unit`, for the book to quote.
///
/// Names are lowercase ASCII letters, digits and `_` (`wall_ms`,
/// `fetches_per_s`); the book refers to them as
/// `{{#metric ch01/blocking_fetch wall}}`. Reporting the same name twice in
/// one run keeps the last value.
///
/// ```
/// support::report::metric("loopback_round_trip", 23.5, "µs");
/// ```
///
/// # Panics
/// On a malformed name: that is a bug in the listing, not bad input.
pub fn metric(name: &str, value: f64, unit: &str) {
    check_name(name);
    append(&Record::Metric { name, value, unit });
}

/// Reports the named figure `value`, in `unit`, like [`metric`], and returns
/// it as a [`Figure`] to show in a table cell or in the verdict's evidence:
/// one declaration gives all three.
///
/// ```
/// use support::report::{Table, figure};
///
/// let wall = figure("wall_ms", 512.34, "ms");
/// let mut table = Table::new(["fetches", "wall"]);
/// table.row(["10".to_string(), format!("{wall:.0}")]);
/// assert_eq!(format!("{wall:.0}"), "512 ms");
/// assert_eq!(format!("{wall}"), "512 ms"); // three significant digits unless told
/// assert!(wall.value > 500.0);
/// assert_eq!(figure("stalls", 4.0, "").to_string(), "4");
/// assert_eq!(figure("cores", 1.0, "cores").to_string(), "1 core");
/// assert_eq!(figure("speed_up", 1.916, "x").to_string(), "1.92x");
/// assert_eq!(format!("{:#.1}", figure("rate", 1234.56, "jobs/s")), "1234.6");
/// ```
///
/// # Panics
/// On a malformed name, as [`metric`].
pub fn figure(name: &str, value: f64, unit: &'static str) -> Figure {
    metric(name, value, unit);
    Figure { value, unit }
}

/// A figure [`figure`] reported: its value, and its unit for display.
///
/// It prints as its value and unit (`12.3 ms`, `41%`, `2.1x`), with the
/// precision the format asks for (`{:.1}`) or else three significant digits
/// (a whole number prints whole: `4`, not `4.00`); `{:#}` prints the value
/// without its unit, for a table whose column title names it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figure {
    /// The value, in the figure's unit.
    pub value: f64,
    /// The unit: `ms`, `µs`, `%`, `x`, or empty for a count.
    pub unit: &'static str,
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let magnitude = self.value.abs();
        let decimals = f.precision().unwrap_or(match magnitude {
            m if m >= 100.0 || m.fract() == 0.0 => 0,
            m if m >= 10.0 => 1,
            m if m >= 1.0 => 2,
            _ => 3,
        });
        let (space, unit) = match self.unit {
            _ if f.alternate() => ("", ""),
            "cores" if self.value == 1.0 => (" ", "core"),
            "" | "%" | "x" => ("", self.unit),
            _ => (" ", self.unit),
        };
        write!(f, "{:.decimals$}{space}{unit}", self.value)
    }
}

/// Reports a named curve of `(x, y)` points, for figures drawn from data.
///
/// ```
/// let points = [(1.0, 50.2), (2.0, 100.4), (4.0, 200.9)];
/// support::report::series("wall_by_fetches", "fetches", "ms", &points);
/// ```
///
/// # Panics
/// On a malformed name, as [`metric`].
pub fn series(name: &str, x_unit: &str, y_unit: &str, points: &[(f64, f64)]) {
    check_name(name);
    append(&Record::Series { name, x_unit, y_unit, points });
}

/// Prints a section heading; the chapter tours print one per listing.
///
/// ```
/// support::report::heading("blocking_fetch: fetches one after another");
/// ```
pub fn heading(title: &str) {
    println!("\n== {title} ==\n");
}

/// Prints whether the listing's claim held on this run, records the verdict
/// for `cargo xtask measure`, and returns the exit code that says so:
/// [`EXIT_HELD`] when it held, [`EXIT_FAILED`] when it did not.
///
/// `evidence` is the measured figure the verdict rests on, in words.
///
/// ```
/// use std::process::ExitCode;
///
/// let code = support::report::verdict("sleeps overlap", false, "took 2.0 s, expected about 1 s");
/// assert_eq!(code, ExitCode::FAILURE);
/// ```
pub fn verdict(claim: &str, holds: bool, evidence: &str) -> ExitCode {
    if holds {
        conclude("held", claim, evidence, "claim holds", EXIT_HELD)
    } else {
        conclude("failed", claim, evidence, "CLAIM FAILED", EXIT_FAILED)
    }
}

/// The claim could not be checked on this machine, which lacks what it
/// needs (`why`: "one core available"): says so and returns
/// [`EXIT_SKIPPED`], which a measurement accepts, not a failure.
///
/// ```
/// use std::process::ExitCode;
///
/// let code = support::report::skipped("two threads overlap", "one core available");
/// assert_eq!(code, ExitCode::from(support::report::EXIT_SKIPPED));
/// ```
pub fn skipped(claim: &str, why: &str) -> ExitCode {
    conclude("skipped", claim, why, "claim skipped", EXIT_SKIPPED)
}

/// The flags left nothing to check (`why`: "no thread panicked"): says so,
/// never a vacuous "claim holds", and returns [`EXIT_UNCHECKED`].
///
/// ```
/// use std::process::ExitCode;
///
/// let code = support::report::unchecked("a panic reaches the join", "no symbol was bad");
/// assert_eq!(code, ExitCode::from(support::report::EXIT_UNCHECKED));
/// ```
pub fn unchecked(claim: &str, why: &str) -> ExitCode {
    conclude("unchecked", claim, why, "nothing checked", EXIT_UNCHECKED)
}

fn conclude(state: &str, claim: &str, evidence: &str, words: &str, code: u8) -> ExitCode {
    println!("{words}: {claim} ({evidence})");
    append(&Record::Verdict { state, claim, evidence });
    ExitCode::from(code)
}

/// A text table with aligned columns, printed to stdout.
///
/// Text columns are aligned left, and a column whose cells all start with a
/// digit (or a sign) is aligned right, so figures line up.
///
/// ```
/// use support::report::Table;
///
/// let mut table = Table::new(["where the data is", "time"]);
/// table.row(["L1 cache", "1.1 ns"]);
/// table.row(["main memory", "92 ns"]);
/// assert_eq!(
///     table.render(),
///     "where the data is    time\n\
///      -----------------  ------\n\
///      L1 cache           1.1 ns\n\
///      main memory         92 ns\n"
/// );
/// ```
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<I, S>(header: I) -> Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table { header: header.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are left blank and extra cells dropped.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
        self
    }

    /// Adds a row written as one line, its cells separated by `|` as in a
    /// Markdown table: one `format!` fills a row of mixed figures.
    ///
    /// ```
    /// use support::report::{Table, figure};
    ///
    /// let wall = figure("wall_ms", 512.3, "ms");
    /// let mut table = Table::new(["fetches", "wall", "speed-up"]);
    /// table.cells(&format!("{}|{wall:.0}|{:.1}x", 10, 4.87));
    /// assert!(table.render().ends_with("     10  512 ms      4.9x\n"));
    /// ```
    pub fn cells(&mut self, line: &str) -> &mut Table {
        self.row(line.split('|'))
    }

    /// The table as text, one line per row, each line ending in `\n`.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let width = |c: usize| {
            std::iter::once(&self.header[c])
                .chain(self.rows.iter().map(|row| &row[c]))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let numeric: Vec<bool> = (0..columns)
            .map(|c| {
                !self.rows.is_empty()
                    && self.rows.iter().all(|row| {
                        row[c]
                            .chars()
                            .next()
                            .is_some_and(|ch| ch.is_ascii_digit() || "+-~<>≈".contains(ch))
                    })
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    let pad = widths[c] - cell.chars().count();
                    if numeric[c] {
                        format!("{}{cell}", " ".repeat(pad))
                    } else {
                        format!("{cell}{}", " ".repeat(pad))
                    }
                })
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let mut text = line(&self.header);
        text.push_str(&line(&rule));
        for row in &self.rows {
            text.push_str(&line(row));
        }
        text
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

fn check_name(name: &str) {
    let well_formed = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    assert!(well_formed, "metric name {name:?} must be lowercase letters, digits and _");
}

fn append(record: &Record<'_>) {
    let Some(path) = std::env::var_os(METRICS_ENV) else {
        return;
    };
    let line = serde_json::to_string(record).expect("a metric record always serializes");
    // The measuring process reads the file after the listing exits; a failure
    // to write must not go unnoticed, or the book would quote a stale figure.
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open the metrics file {path:?}: {e}"));
    writeln!(file, "{line}").unwrap_or_else(|e| panic!("cannot write the metrics file: {e}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_one_json_object_per_line() {
        let record = Record::Metric { name: "wall", value: 1.5, unit: "s" };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"kind":"metric","name":"wall","value":1.5,"unit":"s"}"#
        );
        let points = [(1.0, 2.0)];
        let record =
            Record::Series { name: "curve", x_unit: "tasks", y_unit: "ms", points: &points };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"kind":"series","name":"curve","x_unit":"tasks","y_unit":"ms","points":[[1.0,2.0]]}"#
        );
        let record = Record::Verdict {
            state: "skipped",
            claim: "threads overlap",
            evidence: "one core available",
        };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"kind":"verdict","state":"skipped","claim":"threads overlap","evidence":"one core available"}"#
        );
    }

    #[test]
    fn a_malformed_name_is_refused() {
        let refused = std::panic::catch_unwind(|| check_name("Wall time"));
        let message = refused.unwrap_err();
        let message = message.downcast_ref::<String>().unwrap();
        assert_eq!(message, "metric name \"Wall time\" must be lowercase letters, digits and _");
    }
}
