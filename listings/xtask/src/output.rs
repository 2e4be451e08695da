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
            format!(", the most typical of {} runs, whose figures the text quotes", self.runs)
        } else {
            String::new()
        };
        let date = self.measured_at.get(..10).unwrap_or(&self.measured_at);
        let servers = match self.machine.servers.as_slice() {
            [] => String::new(),
            servers => format!(", with {}", servers.join(", ")),
        };
        format!(
            "Measured output of `{}`{runs}, on the machine that built this page: {} ({}), {}, {}{servers}, on {date}.",
            self.command,
            self.machine.cpu,
            crate::condition::cores(self.machine.cores),
            self.machine.os,
            self.machine.rustc
        )
    }
}

impl Output {
    /// The run a page shows: its stdout, its series and its verdict are the
    /// output's, and the text quotes its figures (see `most_typical_run`).
    pub fn shown_run(&self) -> usize {
        let samples: Vec<&[f64]> = self.metrics.values().map(|m| m.samples.as_slice()).collect();
        let runs = samples.iter().map(|s| s.len()).min().unwrap_or(self.runs as usize);
        most_typical_run(&samples, runs)
    }

    /// The figure the text quotes for the metric `name`: the shown run's
    /// value, so that a sentence agrees with the output printed beside it.
    pub fn quoted(&self, name: &str) -> Option<Quoted<'_>> {
        let metric = self.metrics.get(name)?;
        let value = metric.samples.get(self.shown_run()).copied().unwrap_or(metric.median);
        Some(Quoted { value, metric })
    }
}

/// The run whose values are, summed over the metrics, the fewest ranks away
/// from the middle rank; the last run when there are no metrics, the earliest
/// on a tie. Then the output a page shows, and the figures its text quotes,
/// are one real run's, and as typical of the runs as one run can be.
pub fn most_typical_run(metrics: &[&[f64]], runs: usize) -> usize {
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
    if metrics.is_empty() || runs == 0 {
        return runs.saturating_sub(1);
    }
    (0..runs).min_by(|&a, &b| distance(a).total_cmp(&distance(b))).unwrap_or(0)
}

/// A metric as the text quotes it: the shown run's value, with every run
/// behind it.
#[derive(Clone, Copy, Debug)]
pub struct Quoted<'a> {
    /// The shown run's value.
    pub value: f64,
    /// The metric over all runs: its unit and its spread.
    pub metric: &'a Metric,
}

impl Quoted<'_> {
    /// The figure as a page shows it: plain, or, when the runs were noisy,
    /// marked, with their range on hover, on focus and for screen readers.
    pub fn shown(&self) -> String {
        let metric = self.metric;
        let figure = format_figure(self.value, &metric.unit);
        if !metric.is_noisy() {
            return figure;
        }
        let range = format!(
            "noisy: its {} runs ranged from {} to {}",
            metric.samples.len(),
            format_figure(metric.min, &metric.unit),
            format_figure(metric.max, &metric.unit)
        );
        format!(
            "<span class=\"workbook-noisy\" tabindex=\"0\" title=\"{range}\" aria-label=\"{figure} ({range})\">{figure}</span>"
        )
    }
}

impl Metric {
    /// Whether some run lies more than 20% away from the median: then one
    /// run's figure alone would read more firmly than the runs allow.
    pub fn is_noisy(&self) -> bool {
        self.median != 0.0
            && self.samples.iter().any(|s| ((s - self.median) / self.median).abs() > 0.2)
    }
}

/// A figure for prose: three significant digits, then the unit.
///
/// `512.3 ms` -> `512 ms`, `0.01234 s` -> `0.0123 s`, `97.2 %` -> `97.2%`;
/// a whole number (a count) keeps no decimals; one core is `1 core`.
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
        "cores" if value == 1.0 => "1 core".into(),
        "%" | "x" | "×" => format!("{number}{unit}"),
        _ => format!("{number} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Metric, Quoted, format_figure, most_typical_run};

    #[test]
    fn a_noisy_figure_is_marked_with_its_range() {
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
        let quiet = metric(&[100.0, 110.0, 90.0]);
        assert_eq!(Quoted { value: 110.0, metric: &quiet }.shown(), "110 ms");
        let noisy = metric(&[100.0, 130.0, 95.0]);
        assert_eq!(
            Quoted { value: 130.0, metric: &noisy }.shown(),
            "<span class=\"workbook-noisy\" tabindex=\"0\" title=\"noisy: its 3 runs ranged from 95 ms to 130 ms\" aria-label=\"130 ms (noisy: its 3 runs ranged from 95 ms to 130 ms)\">130 ms</span>"
        );
    }

    #[test]
    fn the_text_quotes_the_shown_run_even_where_it_is_not_the_median() {
        // Run 1 sits in the middle of `a` and `b`, so it is the shown run; its
        // `c` is the largest of the three, and that is what the text quotes,
        // as the output beside it prints it.
        let metric = |samples: [f64; 3]| serde_json::json!({"unit": "ms", "median": 0.0, "min": 0.0, "max": 0.0, "samples": samples});
        let output: super::Output = serde_json::from_value(serde_json::json!({
            "listing": "ch99/waiting", "command": "", "args": [], "runs": 3, "fingerprint": "",
            "machine": {"cpu": "", "cores": 2, "os": "", "rustc": ""},
            "measured_at": "2026-01-02", "stdout": [],
            "metrics": {
                "a": metric([1.0, 2.0, 3.0]),
                "b": metric([30.0, 20.0, 10.0]),
                "c": metric([20.0, 40.0, 21.0]),
            },
        }))
        .unwrap();
        assert_eq!(output.shown_run(), 1);
        assert_eq!(output.quoted("c").map(|q| q.value), Some(40.0));
        assert!(output.quoted("d").is_none());
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
        check(1.0, "cores", "1 core");
        check(2.0, "cores", "2 cores");
        check(2.5, "", "2.50");
    }
}
