//! The detector that keeps pages true on another machine: a paragraph that
//! quotes a measured figure (`{{#metric}}`) and compares or states a
//! direction ("faster", "more than", "came close") must carry the check of
//! that comparison, an `{{#if}}` or an `{{#assert}}`, or say why its words
//! cannot turn false (`<!-- static: reason -->`).
//!
//! Paragraphs written before the detector existed are listed in
//! `listings/xtask/prose-baseline.txt` (page and the paragraph's first
//! words). The list only shrinks: a listed paragraph that passes, or no
//! longer exists, must leave it, and a new one cannot join it.

use std::collections::BTreeSet;

/// Words that compare figures or state a direction.
const COMPARATIVES: [&str; 31] = [
    "faster",
    "slower",
    "cheaper",
    "dearer",
    "more than",
    "less than",
    "fewer than",
    "about the same",
    "came close",
    "close to",
    "under half",
    "twice",
    "half as",
    "several times",
    "times as",
    "times faster",
    "times slower",
    "longer than",
    "shorter than",
    "larger than",
    "smaller than",
    "as much as",
    "as fast as",
    "the same as",
    "well under",
    "far more",
    "far less",
    "far fewer",
    "at most",
    "at least",
    "exceeds",
];

/// The baseline: unchecked paragraphs written before the detector.
pub const BASELINE: &str = "listings/xtask/prose-baseline.txt";

/// An unchecked comparison: where it starts, and its key in the baseline.
#[derive(Debug, PartialEq)]
pub struct Unchecked {
    /// The page, `src/ch02.md`.
    pub page: String,
    /// The line the paragraph starts on.
    pub line: usize,
    /// `page: first words`, as the baseline lists it.
    pub key: String,
}

/// Every paragraph of `text` that quotes a figure and compares without a check.
pub fn unchecked(page: &str, text: &str) -> Vec<Unchecked> {
    let mut found = Vec::new();
    let mut in_code = false;
    let mut paragraph: Vec<&str> = Vec::new();
    let mut start = 0;
    let lines: Vec<&str> = text.lines().chain(std::iter::once("")).collect();
    for (index, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if line.trim().is_empty() {
            if let Some(problem) = judge(page, start + 1, &paragraph) {
                found.push(problem);
            }
            paragraph.clear();
            continue;
        }
        if paragraph.is_empty() {
            start = index;
        }
        paragraph.push(line);
    }
    found
}

fn judge(page: &str, line: usize, paragraph: &[&str]) -> Option<Unchecked> {
    let text = paragraph.join(" ");
    let lower = text.to_lowercase();
    let quotes_a_figure = text.contains("{{#metric");
    let compares = COMPARATIVES.iter().any(|word| contains_word(&lower, word));
    let checked = ["{{#if", "{{#assert", "<!-- static:"].iter().any(|mark| text.contains(mark));
    (quotes_a_figure && compares && !checked).then(|| Unchecked {
        page: page.to_string(),
        line,
        key: format!("{page}: {}", first_words(&text)),
    })
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The paragraph's first eight words: enough to find it, short enough to
/// survive an edit further on.
fn first_words(text: &str) -> String {
    text.split_whitespace().take(8).collect::<Vec<_>>().join(" ")
}

/// Problems, given what the pages hold now and what the baseline lists.
pub fn against_baseline(found: &[Unchecked], baseline: &str) -> Vec<String> {
    let listed: BTreeSet<&str> =
        baseline.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let keys: BTreeSet<&str> = found.iter().map(|u| u.key.as_str()).collect();
    let mut problems: Vec<String> = found
        .iter()
        .filter(|u| !listed.contains(u.key.as_str()))
        .map(|u| {
            format!(
                "{}:{}: this paragraph quotes a figure and compares, unchecked: bind the comparison with {{{{#if}}}} or {{{{#assert}}}}, or mark it <!-- static: why -->",
                u.page, u.line
            )
        })
        .collect();
    problems.extend(listed.iter().filter(|key| !keys.contains(*key)).map(|key| {
        format!("{BASELINE} lists `{key}`, which is checked now or gone: remove the line")
    }));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_needs_its_check_and_the_baseline_only_shrinks() {
        let page = "Intro.\n\nThreads took {{#metric ch04/x t}}, faster than\none after another.\n\n\
                    ```text\nfaster {{#metric a b}}\n```\n\n\
                    Took {{#metric ch04/x t}}, {{#if ch04/x:t < 1 | faster | slower}}.\n\n\
                    Took {{#metric ch04/x t}}, at most a tick. <!-- static: the tick bounds it -->\n\n\
                    Twice as long, but no figure here.\n";
        let found = unchecked("src/ch04.md", page);
        assert_eq!(
            found,
            [Unchecked {
                page: "src/ch04.md".into(),
                line: 3,
                key: "src/ch04.md: Threads took {{#metric ch04/x t}}, faster than one".into()
            }]
        );
        let problems = against_baseline(&found, "");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with(
                "src/ch04.md:3: this paragraph quotes a figure and compares, unchecked"
            )
        );
        let baseline =
            "# old paragraphs\nsrc/ch04.md: Threads took {{#metric ch04/x t}}, faster than one\n";
        assert!(against_baseline(&found, baseline).is_empty());
        let stale = format!("{baseline}src/ch01.md: A paragraph that was fixed since\n");
        assert_eq!(
            against_baseline(&found, &stale),
            [format!(
                "{BASELINE} lists `src/ch01.md: A paragraph that was fixed since`, which is checked now or gone: remove the line"
            )]
        );
        // "faster" inside another word is no comparison.
        assert!(unchecked("p", "Took {{#metric a b}}, steadfaster.\n").is_empty());
    }
}
