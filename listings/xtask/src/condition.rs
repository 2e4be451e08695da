//! Conditions over measured figures, for prose that must agree with them on
//! any machine: `{{#if COND | text if it holds | text if not}}` picks its
//! words from the figures it renders, and `{{#assert COND}}` fails the build,
//! naming the page and line, when a sentence beside it would be false.
//!
//! A condition is comparisons joined by `and`:
//!
//! ```text
//! ch04/cpu_in_processes:speedup_threads >= 0.8 * ch04/cpu_in_processes@cores
//! ch02/gil_cpu_threads:speedup_4 < 1.2 and ch02/cpu_threads:speedup_none_4 > 1.5
//! ```
//!
//! An operand is a number, a metric's median (`chNN/listing:metric`) or a
//! fact of the machine that measured a listing (`chNN/listing@cores`, or
//! `chNN/listing@skipped`: 1 when the listing skipped its claim there),
//! optionally multiplied or divided by more of them.

use crate::output::Output;

/// Looks up what a condition names: the output of a listing, by id.
pub trait Figures {
    /// The measured output of `id`, or why there is none.
    fn output(&mut self, id: &str) -> Result<Output, String>;
}

/// Whether `words` (a condition) holds over `figures`.
pub fn holds(words: &[&str], figures: &mut dyn Figures) -> Result<bool, String> {
    if words.is_empty() {
        return Err("an empty condition".into());
    }
    let mut all = true;
    for comparison in words.split(|w| *w == "and") {
        let at =
            comparison.iter().position(|w| ["<", "<=", ">", ">=", "=="].contains(w)).ok_or_else(
                || format!("`{}` compares nothing (<, <=, >, >=, ==)", comparison.join(" ")),
            )?;
        let left = value(&comparison[..at], figures)?;
        let right = value(&comparison[at + 1..], figures)?;
        let result = match comparison[at] {
            "<" => left < right,
            "<=" => left <= right,
            ">" => left > right,
            ">=" => left >= right,
            _ => left == right,
        };
        all &= result;
    }
    Ok(all)
}

/// The value of `term (* term | / term)*`.
fn value(words: &[&str], figures: &mut dyn Figures) -> Result<f64, String> {
    let (first, rest) = words.split_first().ok_or("a comparison lacks a side")?;
    let mut total = operand(first, figures)?;
    for pair in rest.chunks(2) {
        match pair {
            ["*", term] => total *= operand(term, figures)?,
            ["/", term] => total /= operand(term, figures)?,
            _ => return Err(format!("`{}` is not `* term` or `/ term`", pair.join(" "))),
        }
    }
    Ok(total)
}

fn operand(word: &str, figures: &mut dyn Figures) -> Result<f64, String> {
    if let Ok(number) = word.parse::<f64>() {
        return Ok(number);
    }
    if let Some((id, fact)) = word.split_once('@') {
        let output = figures.output(id)?;
        let skipped = output.verdict.as_ref().is_some_and(|v| v.state == "skipped");
        return match fact {
            "cores" => Ok(output.machine.cores as f64),
            // 1 when the listing could not check its claim on that machine.
            "skipped" => Ok(f64::from(u8::from(skipped))),
            _ => Err(format!("`{fact}` is no machine fact (known: cores, skipped)")),
        };
    }
    let (id, name) = word.split_once(':').ok_or_else(|| {
        format!("`{word}` is not a number, chNN/listing:metric or chNN/listing@cores")
    })?;
    let output = figures.output(id)?;
    output
        .quoted(name)
        .map(|quoted| quoted.value)
        .ok_or_else(|| format!("{id} reports no metric `{name}`"))
}

/// `n cores` / `1 core`: a machine fact in words.
pub fn cores(count: usize) -> String {
    match count {
        1 => "1 core".to_string(),
        n => format!("{n} cores"),
    }
}
