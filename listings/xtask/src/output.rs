//! The measured output of a listing, as committed in
//! `listings/chNN/outputs/<name>.json`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What one measurement of a listing recorded.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Output {
    /// `ch01/blocking_fetch`.
    pub listing: String,
    /// The command a reader runs to see the same output.
    pub command: String,
    /// The flags it ran with.
    pub args: Vec<String>,
    /// How many times it ran.
    pub runs: u32,
    /// The fingerprint of its inputs when it ran (see `fingerprint.rs`).
    pub fingerprint: String,
    /// Where it ran.
    pub machine: Machine,
    /// When it ran, RFC 3339 in UTC.
    pub measured_at: String,
    /// What the most typical run printed, line by line: the run closest to
    /// the middle over all metrics.
    pub stdout: Vec<String>,
    /// The named figures, over all runs.
    pub metrics: BTreeMap<String, Metric>,
    /// The named curves of the median run.
    #[serde(default)]
    pub series: BTreeMap<String, Series>,
    /// The shown run's verdict, for a listing that reports it as a record;
    /// a page renders a note for a skipped claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// The machine a measurement ran on.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Machine {
    /// The CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical cores available to the process.
    pub cores: usize,
    /// The operating system and kernel.
    pub os: String,
    /// `rustc --version`.
    pub rustc: String,
    /// The interpreter that ran a Python twin (`CPython 3.11.7`), and
    /// whether its GIL was enabled; absent for a Rust listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// The servers the listing started, with their versions
    /// (`redis-server 7.0.15`); absent for a listing that starts none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
}

/// A listing's verdict on its claim, as it reported it (the protocol's
/// `verdict` record): `state` is held, failed, skipped or unchecked.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Verdict {
    /// held, failed, skipped (the machine lacks what the claim needs) or
    /// unchecked (the flags left nothing to check).
    pub state: String,
    /// The claim, in words.
    pub claim: String,
    /// The figures it rests on, or why it was skipped.
    pub evidence: String,
}

/// One named figure over all runs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Metric {
    /// Its unit, as the listing reported it.
    pub unit: String,
    /// The median over the runs.
    pub median: f64,
    /// The smallest run.
    pub min: f64,
    /// The largest run.
    pub max: f64,
    /// Every run's value, in run order.
    pub samples: Vec<f64>,
}

/// One named curve.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Series {
    /// The unit of x.
    pub x_unit: String,
    /// The unit of y.
    pub y_unit: String,
    /// The points, in the order reported.
    pub points: Vec<(f64, f64)>,
}

impl Output {
    /// Reads a committed output.
    pub fn load(path: &Path) -> Result<Output> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid output", path.display()))
    }

    /// Writes the output atomically: a failure leaves the old file as it was.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        let dir = path.parent().context("an output path has a folder")?;
        std::fs::create_dir_all(dir)?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, path)?;
        Ok(())
    }

    /// The caption under an embedded output: what ran, where and when.
    pub fn caption(&self) -> String {
        let runs = if self.runs > 1 {
            format!(", the most typical of {} runs", self.runs)
        } else {
            String::new()
        };
        let date = self.measured_at.get(..10).unwrap_or(&self.measured_at);
        let servers = match self.machine.servers.as_slice() {
            [] => String::new(),
            servers => format!(", with {}", servers.join(", ")),
        };
        format!(
            "Measured output of `{}`{runs}, on the machine that built this page: {} ({} cores), {}, {}{servers}, on {date}.",
            self.command, self.machine.cpu, self.machine.cores, self.machine.os, self.machine.rustc
        )
    }
}

impl Metric {
    /// Whether some run lies more than 20% away from the median: then the
    /// median alone would read more firmly than the runs allow.
    pub fn is_noisy(&self) -> bool {
        self.median != 0.0
            && self.samples.iter().any(|s| ((s - self.median) / self.median).abs() > 0.2)
    }

    /// The median as a page shows it: plain, or, when noisy, marked, with
    /// the runs' range on hover, on focus and for screen readers.
    pub fn shown(&self) -> String {
        let median = format_figure(self.median, &self.unit);
        if !self.is_noisy() {
            return median;
        }
        let range = format!(
            "noisy: its {} runs ranged from {} to {}",
            self.samples.len(),
            format_figure(self.min, &self.unit),
            format_figure(self.max, &self.unit)
        );
        format!(
            "<span class=\"workbook-noisy\" tabindex=\"0\" title=\"{range}\" aria-label=\"{median} ({range})\">{median}</span>"
        )
    }
}

/// A figure for prose: three significant digits, then the unit.
///
/// `512.3 ms` -> `512 ms`, `0.01234 s` -> `0.0123 s`, `97.2 %` -> `97.2%`;
/// a whole number (a count) keeps no decimals.
pub fn format_figure(value: f64, unit: &str) -> String {
    let magnitude = value.abs();
    let number = if magnitude >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let digits = 2 - magnitude.log10().floor() as i32;
        format!("{value:.*}", digits.max(0) as usize)
    };
    match unit {
        "" => number,
        "%" | "x" | "×" => format!("{number}{unit}"),
        _ => format!("{number} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Metric, format_figure};

    #[test]
    fn a_noisy_median_is_marked_with_its_range() {
        let metric = |samples: &[f64]| {
            let mut sorted = samples.to_vec();
            sorted.sort_by(f64::total_cmp);
            Metric {
                unit: "ms".into(),
                median: sorted[sorted.len() / 2],
                min: sorted[0],
                max: sorted[sorted.len() - 1],
                samples: samples.to_vec(),
            }
        };
        assert_eq!(metric(&[100.0, 110.0, 90.0]).shown(), "100 ms");
        assert_eq!(
            metric(&[100.0, 130.0, 95.0]).shown(),
            "<span class=\"workbook-noisy\" tabindex=\"0\" title=\"noisy: its 3 runs ranged from 95 ms to 130 ms\" aria-label=\"100 ms (noisy: its 3 runs ranged from 95 ms to 130 ms)\">100 ms</span>"
        );
    }

    fn check(value: f64, unit: &str, expected: &str) {
        assert_eq!(format_figure(value, unit), expected);
    }

    #[test]
    fn figures_keep_three_significant_digits() {
        check(512.3, "ms", "512 ms");
        check(12345.6, "ns", "12346 ns");
        check(51.23, "ms", "51.2 ms");
        check(5.123, "s", "5.12 s");
        check(0.01234, "s", "0.0123 s");
        check(0.0, "ms", "0 ms");
        check(97.25, "%", "97.2%");
        check(48.0, "x", "48x");
        check(3.0, "", "3");
        check(2.5, "", "2.50");
    }
}
