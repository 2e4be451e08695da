//! Figures drawn from measured data: a line chart of one or more series of
//! a listing's output, as inline SVG that follows the page's theme (axes and
//! text in `currentColor`, lines in colours that read on light and dark).

use std::fmt::Write;

use crate::output::{Output, Series, format_figure};

/// Colours from Okabe and Ito's palette, distinguishable with colour blindness.
const COLOURS: [&str; 6] = ["#e69f00", "#56b4e9", "#009e73", "#cc79a7", "#d55e00", "#0072b2"];
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 52.0;

/// How an axis maps values to pixels.
#[derive(Clone, Copy)]
struct Axis {
    low: f64,
    high: f64,
    log: bool,
    whole: bool,
}

impl Axis {
    fn over(values: impl Iterator<Item = f64> + Clone, log: bool) -> Result<Axis, String> {
        let usable = values.filter(|v| v.is_finite() && (!log || *v > 0.0));
        // Counts and thread numbers get whole-number ticks.
        let whole = usable.clone().all(|v| v.fract() == 0.0);
        let low = usable.clone().fold(f64::INFINITY, f64::min);
        let high = usable.fold(f64::NEG_INFINITY, f64::max);
        if !low.is_finite() {
            return Err("the series have no point to draw".into());
        }
        Ok(if log {
            Axis {
                low: 10f64.powf(low.log10().floor()),
                high: 10f64.powf(high.log10().ceil().max(low.log10().floor() + 1.0)),
                log,
                whole,
            }
        } else {
            // Linear axes start at zero, so bars of time are not exaggerated.
            let low = low.min(0.0);
            let mut step = nice_step((high - low).max(f64::MIN_POSITIVE) / 5.0);
            if whole {
                step = step.max(1.0);
            }
            Axis {
                low: (low / step).floor() * step,
                high: ((high / step).ceil() * step).max(low + step),
                log,
                whole,
            }
        })
    }

    /// Where `value` falls, from 0 (low) to 1 (high).
    fn fraction(&self, value: f64) -> f64 {
        if self.log {
            (value.log10() - self.low.log10()) / (self.high.log10() - self.low.log10())
        } else {
            (value - self.low) / (self.high - self.low)
        }
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (from, to) = (self.low.log10().round() as i32, self.high.log10().round() as i32);
            (from..=to).map(|power| 10f64.powi(power)).collect()
        } else {
            let mut step = nice_step((self.high - self.low) / 5.0);
            if self.whole {
                step = step.max(1.0);
            }
            let count = ((self.high - self.low) / step).round() as i64;
            (0..=count).map(|i| self.low + i as f64 * step).collect()
        }
    }
}

/// A tick's label: as short as the number allows (`0.5`, `1000`, `1e+06`).
fn tick_label(value: f64) -> String {
    let magnitude = value.abs();
    for (scale, suffix) in [(1e9, "G"), (1e6, "M"), (1e4, "k")] {
        if magnitude >= scale {
            let scaled = format!("{:.3}", value / if suffix == "k" { 1e3 } else { scale });
            return format!("{}{}", scaled.trim_end_matches('0').trim_end_matches('.'), suffix);
        }
    }
    if value != 0.0 && magnitude < 1e-3 {
        return format!("{value:e}");
    }
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// 1, 2 or 5 times a power of ten, at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

/// The figure of `lines`, each a series named in an output (a Rust listing's
/// and a Python twin's may share the axes), captioned; an error names what
/// is missing, or series whose units differ.
pub fn figure(
    lines: &[(&Output, &str)],
    log_x: bool,
    log_y: bool,
    caption: &str,
) -> Result<String, String> {
    let unlabelled: Vec<(&Output, &str, Option<String>)> =
        lines.iter().map(|(output, name)| (*output, *name, None)).collect();
    figure_labelled(&unlabelled, log_x, log_y, caption)
}

/// As [`figure`], with a line's legend label given (`None`: its series'
/// name, marked as CPython's for a twin): `cargo xtask serve` draws a run
/// from the page beside the book's lines this way.
pub fn figure_labelled(
    lines: &[(&Output, &str, Option<String>)],
    log_x: bool,
    log_y: bool,
    caption: &str,
) -> Result<String, String> {
    let mut series: Vec<(String, &Series)> = Vec::new();
    for (output, name, label) in lines {
        let found = output.series.get(*name).ok_or_else(|| {
            let known: Vec<&str> = output.series.keys().map(String::as_str).collect();
            format!(
                "{} reports no series `{name}` (it reports: {})",
                output.listing,
                known.join(", ")
            )
        })?;
        if let Some((first, data)) = series.first()
            && (data.x_unit != found.x_unit || data.y_unit != found.y_unit)
        {
            return Err(format!(
                "`{name}` is in {} by {}, `{first}` in {} by {}: one figure draws like units only",
                found.y_unit, found.x_unit, data.y_unit, data.x_unit
            ));
        }
        // A twin's series is labelled as CPython's, so that a Rust series
        // and a Python one of the same name stay apart in the legend.
        let label = match (label, &output.machine.python) {
            (Some(label), _) => label.clone(),
            (None, Some(_)) => format!("{name} (CPython)"),
            (None, None) => (*name).to_string(),
        };
        series.push((label, found));
    }
    let output = lines.first().ok_or("a figure names at least one series")?.0;
    let names: Vec<&str> = lines.iter().map(|(_, name, _)| *name).collect();
    let names = names.as_slice();
    if caption.is_empty() {
        return Err(
            "a figure needs a caption after `|`: it is also the figure's text for screen readers"
                .into(),
        );
    }
    let points = || series.iter().flat_map(|(_, s)| s.points.iter().copied());
    let x = Axis::over(points().map(|(x, _)| x), log_x)?;
    let y = Axis::over(points().map(|(_, y)| y), log_y)?;
    let px = |value: f64| LEFT + x.fraction(value) * (WIDTH - LEFT - RIGHT);
    // With several series, legend rows above the plot keep it off the lines:
    // each entry where it fits, a new row when the line is full.
    let mut legend = Vec::new();
    let (mut legend_x, mut legend_row) = (LEFT, 0.0);
    for (label, _) in &series {
        let width = 32.0 + 7.0 * label.chars().count() as f64;
        if legend_x > LEFT && legend_x + width > WIDTH - RIGHT {
            (legend_x, legend_row) = (LEFT, legend_row + 1.0);
        }
        legend.push((legend_x, TOP + 4.0 + 18.0 * legend_row));
        legend_x += width;
    }
    let top = if series.len() > 1 { TOP + 20.0 + 18.0 * legend_row } else { TOP };
    let py = |value: f64| HEIGHT - BOTTOM - y.fraction(value) * (HEIGHT - top - BOTTOM);
    let (x_unit, y_unit) = (&series[0].1.x_unit, &series[0].1.y_unit);

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg" font-size="12" fill="currentColor">"#,
        id = element_id(output, names)
    );
    let _ = write!(
        svg,
        r#"<title id="{}-title">{}</title>"#,
        element_id(output, names),
        escape(caption)
    );
    let _ = write!(
        svg,
        r#"<desc id="{}-desc">{}</desc>"#,
        element_id(output, names),
        escape(&describe(&series))
    );
    // Axes, grid and tick labels in the text colour, so they follow the theme.
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, top);
    let _ = write!(
        svg,
        r#"<g stroke="currentColor" stroke-opacity="0.6"><line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}"/></g>"#
    );
    for tick in x.ticks() {
        let at = px(tick);
        let _ = write!(
            svg,
            r#"<line x1="{at:.1}" y1="{y0}" x2="{at:.1}" y2="{:.1}" stroke="currentColor" stroke-opacity="0.6"/><text x="{at:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            y0 + 5.0,
            y0 + 18.0,
            escape(&tick_label(tick))
        );
    }
    for tick in y.ticks() {
        let at = py(tick);
        let _ = write!(
            svg,
            r#"<line x1="{x0}" y1="{at:.1}" x2="{x1}" y2="{at:.1}" stroke="currentColor" stroke-opacity="0.15"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            x0 - 6.0,
            at + 4.0,
            escape(&tick_label(tick))
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (x0 + x1) / 2.0,
        HEIGHT - 12.0,
        escape(x_unit)
    );
    let _ = write!(
        svg,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (y0 + y1) / 2.0,
        escape(y_unit)
    );
    for (index, (name, data)) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let kept: Vec<(f64, f64)> = data
            .points
            .iter()
            .copied()
            .filter(|(a, b)| {
                a.is_finite() && b.is_finite() && (!log_x || *a > 0.0) && (!log_y || *b > 0.0)
            })
            .collect();
        let drawn: Vec<String> =
            kept.iter().map(|(a, b)| format!("{:.1},{:.1}", px(*a), py(*b))).collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            drawn.join(" ")
        );
        if kept.len() <= 40 {
            // Each point says its value on hover (an SVG <title> is a tooltip).
            for (a, b) in &kept {
                let value = format!(
                    "{name}: {} {}: {}",
                    format_figure(*a, ""),
                    data.x_unit,
                    format_figure(*b, &data.y_unit)
                );
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}</title></circle>"#,
                    px(*a),
                    py(*b),
                    escape(&value)
                );
            }
        }
        if series.len() > 1 {
            let (legend_x, ly) = legend[index];
            let _ = write!(
                svg,
                r#"<rect x="{legend_x:.1}" y="{:.1}" width="12" height="3" fill="{colour}"/><text x="{:.1}" y="{ly:.1}">{}</text>"#,
                ly - 4.0,
                legend_x + 16.0,
                escape(name)
            );
        }
    }
    svg.push_str("</svg>");
    let date = output.measured_at.get(..10).unwrap_or(&output.measured_at);
    let mut commands: Vec<String> = Vec::new();
    for (source, _, _) in lines {
        let command = format!("<code>{}</code>", escape(&source.command));
        if !commands.contains(&command) {
            commands.push(command);
        }
    }
    let sources = match commands.as_slice() {
        [one] => format!("the measured output of {one}"),
        [first @ .., last] => format!("the measured outputs of {} and {last}", first.join(", ")),
        [] => String::new(),
    };
    Ok(format!(
        "<figure class=\"workbook-figure\">{svg}<figcaption>{}{} <em>Drawn from {sources}, on {}, {date}.</em></figcaption></figure>\n",
        escape(caption),
        if caption.ends_with(['.', '!', '?']) { "" } else { "." },
        escape(&output.machine.cpu),
    ))
}

/// The data in words, for screen readers and search.
fn describe(series: &[(String, &Series)]) -> String {
    let parts: Vec<String> = series
        .iter()
        .map(|(name, s)| {
            let pairs: Vec<String> = s
                .points
                .iter()
                .take(12)
                .map(|(x, y)| {
                    format!(
                        "{} {}: {}",
                        format_figure(*x, ""),
                        s.x_unit,
                        format_figure(*y, &s.y_unit)
                    )
                })
                .collect();
            let more = if s.points.len() > 12 {
                format!(" and {} more points", s.points.len() - 12)
            } else {
                String::new()
            };
            format!("{name}: {}{more}", pairs.join("; "))
        })
        .collect();
    format!("Line chart. {}.", parts.join(". "))
}

fn element_id(output: &Output, names: &[&str]) -> String {
    format!("figure-{}-{}", output.listing.replace('/', "-"), names.join("-"))
}

/// A figure as a page asks for it, `{{#figure chNN/name series[,chNN/other:series]
/// [logx] [logy] | caption}}`: each line's listing and series, the axes and
/// the caption.
#[derive(Debug, PartialEq)]
pub struct Spec {
    /// Each line: the listing it comes from (`chNN/name`) and its series.
    pub lines: Vec<(String, String)>,
    pub log_x: bool,
    pub log_y: bool,
    pub caption: String,
}

impl Spec {
    /// The directive's words, after `#figure`.
    pub fn parse(args: &[&str]) -> Result<Spec, String> {
        const FORM: &str = "wrong arguments";
        let [id, rest @ ..] = args else { return Err(FORM.into()) };
        let Some(split) = rest.iter().position(|w| *w == "|") else { return Err(FORM.into()) };
        let (names, caption) = (&rest[..split], rest[split + 1..].join(" "));
        let lines: Vec<(String, String)> = names
            .iter()
            .flat_map(|n| n.split(','))
            .filter(|n| !n.is_empty() && *n != "logx" && *n != "logy")
            // A series of another output is named `chNN/listing:series`.
            .map(|n| n.split_once(':').unwrap_or((id, n)))
            .map(|(source, name)| (source.to_string(), name.to_string()))
            .collect();
        if lines.is_empty() {
            return Err("a figure names at least one series before `|`".into());
        }
        Ok(Spec { lines, log_x: names.contains(&"logx"), log_y: names.contains(&"logy"), caption })
    }
}

/// Text made safe for HTML and SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        let axis = Axis::over([0.0, 4.2].into_iter(), false).unwrap();
        assert_eq!(axis.ticks(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let axis = Axis::over([10.0, 1e6].into_iter(), true).unwrap();
        assert_eq!(axis.ticks(), [10.0, 100.0, 1e3, 1e4, 1e5, 1e6]);
        assert!(Axis::over([-1.0, 0.0].into_iter(), true).is_err());
        // Whole numbers, such as the number of the thread holding a lock.
        let axis = Axis::over([1.0, 2.0].into_iter(), false).unwrap();
        assert_eq!(axis.ticks(), [0.0, 1.0, 2.0]);
        let labels: Vec<String> =
            [0.0, 0.5, 1.5, 2000.0, 15000.0, 1e5, 1e6, 2.5e9].into_iter().map(tick_label).collect();
        assert_eq!(labels, ["0", "0.5", "1.5", "2000", "15k", "100k", "1M", "2.5G"]);
    }
}
