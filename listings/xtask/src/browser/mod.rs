//! The built book, checked in a real browser: `book/` is served on 127.0.0.1
//! by a small static file server, Debian's headless Chromium loads every page
//! and this module drives it over the Chrome DevTools Protocol (a WebSocket,
//! spoken synchronously with `tungstenite`).
//!
//! On every chapter page it checks what a reader would meet: no console error
//! or uncaught exception (a missing script, style or image is one), every
//! measured output shown after its `<pre>`, no raw `{{#` directive, every
//! figure an `<svg>` with a `<title>`, every link inside the site leading to
//! a page that exists and to an id on it, and every quiz question answering a
//! wrong choice with "Not quite" and the right one with "Correct", clicked
//! with the mouse. On `index.html` it opens the search, types a term and
//! expects a result linking to the page that has it.
//!
//! Chromium runs in a process group of its own with a fresh profile, and is
//! killed with the server stopped on every way out; every wait has a timeout.
//!
//! The parts: `server` (the file server), `chromium` (starting and killing
//! the browser), `cdp` (the DevTools protocol), `tab` (driving one page) and
//! `checks` (what is checked on it, with the scripts it runs in the page in
//! `page_check.js` and `questions.js`).

mod cdp;
mod checks;
mod chromium;
pub mod from_the_page;
pub mod pdf;
pub(crate) mod server;
mod tab;

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};

use chromium::Browser;
use server::Server;
use tab::Tab;

/// mdBook's themes, each of which must keep the contrast.
const THEMES: [&str; 5] = ["light", "rust", "coal", "navy", "ayu"];

/// The accessibility check: axe-core's script, and the page whose contrast
/// is checked in every theme (one with every kind of element on it).
pub struct Accessibility {
    pub axe: std::path::PathBuf,
    pub themes_page: String,
}

/// What the check saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Pages loaded and checked.
    pub pages: usize,
    /// Measured outputs found, each after a non-empty `<pre>`.
    pub outputs: usize,
    /// `figure.workbook-figure` found, each with an `<svg>` and its `<title>`.
    pub figures: usize,
    /// Quiz questions answered, wrong then right.
    pub quizzes: usize,
    /// "Predict, then reveal" questions answered.
    pub predictions: usize,
    /// Links inside the site followed.
    pub links: usize,
    /// Results the search showed for the term.
    pub search_results: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pages in Chromium: {} measured outputs, {} figures, {} quiz questions, {} predictions, {} links, {} search results",
            self.pages,
            self.outputs,
            self.figures,
            self.quizzes,
            self.predictions,
            self.links,
            self.search_results
        )
    }
}

/// Checks the book built in `book_dir` in headless Chromium (`/usr/bin/chromium`,
/// or `$CHROMIUM`). The search on `index.html` must find `search_term` with a
/// result linking to `search_page` (e.g. `ch01.html`).
///
/// Every problem found is reported, each naming its page; a browser that
/// cannot start or stops answering fails the check at once.
/// With `accessibility`, axe-core runs on every page but `print.html`, and
/// the contrast of its page in every theme of mdBook.
pub fn check_site(
    book_dir: &Path,
    search_term: &str,
    search_page: &str,
    accessibility: Option<&Accessibility>,
) -> Result<Report> {
    let pages = chapter_pages(book_dir)?;
    if pages.is_empty() {
        bail!(
            "{} holds no chapter page; build the book first (cargo xtask book)",
            book_dir.display()
        );
    }
    let server = Server::start(book_dir)?;
    let browser = Browser::launch()?;
    let mut tab = Tab::open(&browser)?;
    if let Some(accessibility) = accessibility {
        let axe = std::fs::read_to_string(&accessibility.axe).with_context(|| {
            format!("no axe-core at {}: run `cargo xtask preflight`", accessibility.axe.display())
        })?;
        tab.call("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({"source": axe}))?;
    }
    let mut report = Report::default();
    let mut problems = Vec::new();
    for page in &pages {
        let html = std::fs::read_to_string(book_dir.join(page))
            .with_context(|| format!("cannot read {page}"))?;
        if let Some(at) = html.find("{{#") {
            let line = html[..at].lines().count().max(1);
            problems.push(format!("{page}: a raw `{{{{#` reached the HTML (line {line})"));
        }
        let seen = tab
            .check_page(&server.url(page), accessibility.is_some() && page != "print.html")
            .with_context(|| format!("{page}: the browser check could not run"))?;
        report.pages += 1;
        report.outputs += seen.outputs;
        report.figures += seen.figures;
        report.quizzes += seen.questions;
        report.predictions += seen.predictions;
        report.links += seen.links;
        problems.extend(seen.problems.into_iter().map(|p| format!("{page}: {p}")));
    }
    if let Some(accessibility) = accessibility {
        let page = &accessibility.themes_page;
        for theme in THEMES {
            // As mdBook's theme menu does: remembered, applied on load.
            tab.eval(&format!("localStorage.setItem('mdbook-theme', '{theme}')"))?;
            tab.navigate(&server.url(page))?;
            let found = tab.accessibility(Some("['color-contrast']"))?;
            problems.extend(found.into_iter().map(|p| format!("{page} in the {theme} theme: {p}")));
        }
        tab.eval("localStorage.removeItem('mdbook-theme')")?;
    }
    let (results, search_problems) = tab
        .check_search(&server.url("index.html"), search_term, search_page)
        .context("index.html: the search check could not run")?;
    report.search_results = results;
    problems.extend(search_problems.into_iter().map(|p| format!("index.html (search): {p}")));
    drop(tab);
    drop(browser);
    drop(server);
    if !problems.is_empty() {
        bail!(
            "the book in {} has {} problem(s) in the browser:\n  {}",
            book_dir.display(),
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(report)
}

/// Every HTML page under `book_dir` but mdBook's 404 and toc pages (print.html,
/// the whole book on one page, included), as `/`-separated paths relative to it, sorted.
fn chapter_pages(book_dir: &Path) -> Result<Vec<String>> {
    fn walk(dir: &Path, prefix: &str, pages: &mut Vec<String>) -> Result<()> {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}{name}");
            if entry.file_type()?.is_dir() {
                walk(&entry.path(), &format!("{path}/"), pages)?;
            } else if name.ends_with(".html")
                && !(prefix.is_empty() && ["404.html", "toc.html"].contains(&&*name))
            {
                pages.push(path);
            }
        }
        Ok(())
    }
    let mut pages = Vec::new();
    walk(book_dir, "", &mut pages)?;
    pages.sort();
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Instant;

    /// A script with the quiz contract of `theme/quiz.js`.
    const QUIZ_JS: &str = r#"document.addEventListener('click', event => {
  const button = event.target.closest && event.target.closest('.quiz-check');
  if (!button) return;
  const question = button.closest('.quiz-question');
  const picked = question.querySelector('input[type=radio]:checked');
  question.querySelector('.quiz-verdict').textContent =
    picked && picked.value === question.dataset.answer ? 'Correct.' : 'Not quite: try again.';
});
"#;

    /// A "predict, then reveal" form as `{{#predict}}` writes it, of a
    /// figure of 5 ms; `revealed` shows its result before any guess.
    fn prediction(id: &str, revealed: bool) -> String {
        let hidden = if revealed { "" } else { " hidden" };
        format!(
            "<form class=\"predict\" id=\"{id}\" data-value=\"5\" data-shown=\"5 ms\"><p><label for=\"{id}-guess\">How long?</label></p><p><input id=\"{id}-guess\" type=\"number\" step=\"any\" min=\"0\" required> <span class=\"predict-unit\">ms</span> <button type=\"submit\">Reveal</button></p><p class=\"predict-result\" aria-live=\"polite\"{hidden}></p></form>\n"
        )
    }

    fn question(id: &str, answer: usize, choices: usize) -> String {
        let mut html = format!(
            "<fieldset class=\"quiz-question\" id=\"{id}\" data-answer=\"{answer}\"><legend>Q</legend>"
        );
        for i in 0..choices {
            html.push_str(&format!(
                "<label><input type=\"radio\" name=\"{id}\" value=\"{i}\"> choice {i}</label>"
            ));
        }
        html.push_str("<button type=\"button\" class=\"quiz-check\">Check</button><p class=\"quiz-verdict\"></p></fieldset>");
        html
    }

    const CH01: &str = "# Chapter one\n\nThe epoll call waits for many sockets at once.\n\n```text\nwall 12 ms\n```\n\n*Measured output of `cargo run -p ch01`, on a test machine.*\n\n<figure class=\"workbook-figure\"><svg viewBox=\"0 0 10 10\" width=\"200\" height=\"100\" role=\"img\"><title>Wall time against fetches</title><rect width=\"10\" height=\"5\"/></svg><figcaption>A figure. <em>Drawn from the measured output of <code>x</code>.</em></figcaption></figure>\n\nSee [the second section](ch02.md#section-two), [chapter two](ch02.md) and [this one](#chapter-one).\n\n";

    const CH02: &str = "# Chapter two\n\nA zyzzyva is a weevil.\n\n## Section two\n\nBack to [one](ch01.md#chapter-one).\n";

    /// A two-chapter book built with mdBook, with `extra` chapters after
    /// them: (file, title, markdown).
    fn build_book(extra: &[(&str, &str, String)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(
            root.join("book.toml"),
            "[book]\ntitle = \"Fixture\"\nsrc = \"src\"\n\n[output.html]\nadditional-js = [\"quiz.js\", \"predict.js\", \"a11y.js\"]\nadditional-css = [\"workbook.css\"]\n\n[output.html.search]\nenable = true\n",
        )
        .unwrap();
        std::fs::write(root.join("quiz.js"), QUIZ_JS).unwrap();
        // The book's own script, as the pages load it.
        let predict_js = include_str!("../../../../theme/predict.js");
        std::fs::write(root.join("predict.js"), predict_js).unwrap();
        let a11y_js = include_str!("../../../../theme/a11y.js");
        std::fs::write(root.join("a11y.js"), a11y_js).unwrap();
        let css = include_str!("../../../../theme/workbook.css");
        std::fs::write(root.join("workbook.css"), css).unwrap();
        let quiz =
            format!("<div class=\"quiz\">{}{}</div>\n", question("q1", 2, 3), question("q2", 0, 2));
        let mut summary =
            String::from("# Summary\n\n- [Chapter one](ch01.md)\n- [Chapter two](ch02.md)\n");
        let guess = prediction("predict-wall", false);
        std::fs::write(root.join("src/ch01.md"), format!("{CH01}{guess}\n{quiz}")).unwrap();
        std::fs::write(root.join("src/ch02.md"), CH02).unwrap();
        for (file, title, markdown) in extra {
            summary.push_str(&format!("- [{title}]({file})\n"));
            std::fs::write(root.join("src").join(file), markdown).unwrap();
        }
        std::fs::write(root.join("src/SUMMARY.md"), summary).unwrap();
        mdbook_driver::MDBook::load(root).unwrap().build().unwrap();
        dir
    }

    #[test]
    fn browser_passes_a_good_book() {
        let book = build_book(&[]);
        let report = check_site(&book.path().join("book"), "epoll", "ch01.html", None).unwrap();
        // index.html is mdBook's copy of the first chapter.
        assert_eq!(
            report,
            Report {
                pages: 4,
                outputs: 3,
                figures: 3,
                quizzes: 4,
                predictions: 2,
                links: report.links,
                search_results: 1
            }
        );
        assert!(report.links >= 6, "{report}");
    }

    #[test]
    fn browser_runs_axe_core_on_every_page_and_the_contrast_in_every_theme() {
        let axe = crate::preflight::AXE.path();
        assert!(axe.is_file(), "no axe-core at {}: run `cargo xtask preflight`", axe.display());
        let pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=";
        let extra = [("images.md", "Images", format!("# Images\n\n<img src=\"{pixel}\">\n"))];
        let book = build_book(&extra);
        let accessibility = Accessibility { axe, themes_page: "ch01.html".into() };
        let error =
            check_site(&book.path().join("book"), "epoll", "ch01.html", Some(&accessibility))
                .unwrap_err()
                .to_string();
        assert!(error.contains("\n  images.html: axe-core: critical image-alt, Images must have alternative text (1 element(s), first img)"), "{error}");
        // Every other page, in every theme, passes: mdBook's own pages need
        // the book's fixes for that (theme/a11y.js, and workbook.css's colours).
        assert_eq!(error.matches("\n  ").count(), 1, "{error}");
    }

    #[test]
    fn browser_names_every_problem_with_its_page() {
        let blocked = format!(
            "# Blocked quiz\n\n<div class=\"quiz\">{}{}</div>\n\n<script>window.addEventListener('click', e => {{ if (e.target.closest('#stuck')) e.stopPropagation(); }}, true);</script>\n",
            question("stuck", 1, 2),
            question("nowhere", 3, 2)
        );
        let extra = [
            (
                "links.md",
                "Links",
                "# Links\n\n[gone](missing.md), [no section](ch02.md#no-such-section), [no anchor here](#nope), [fine](ch02.md#section-two).\n".to_string(),
            ),
            (
                "outputs.md",
                "Outputs",
                "# Outputs\n\n```text\n```\n\n*Measured output of `cargo run -p empty`.*\n\nA paragraph.\n\n*Measured output of `cargo run -p nothing`.*\n".to_string(),
            ),
            (
                "figures.md",
                "Figures",
                "# Figures\n\n<figure class=\"workbook-figure\"><svg viewBox=\"0 0 1 1\"><rect width=\"1\" height=\"1\"/></svg></figure>\n\n<figure class=\"workbook-figure\"><img src=\"chart.png\" alt=\"\"></figure>\n".to_string(),
            ),
            ("quiz.md", "Quiz", blocked),
            ("predict.md", "Predict", format!("# Predict\n\n{}", prediction("early", true))),
            (
                "console.md",
                "Console",
                "# Console\n\n<script>console.error('boom from the page');</script>\n\n<script>throw new Error('kaboom');</script>\n".to_string(),
            ),
            (
                "raw.md",
                "Raw",
                "# Raw\n\nA directive nobody resolved: `{{#output ch01/nothing}}`.\n".to_string(),
            ),
        ];
        let book = build_book(&extra);
        let started = Instant::now();
        // "zyzzyva" is only on ch02.
        let error = check_site(&book.path().join("book"), "zyzzyva", "ch01.html", None)
            .unwrap_err()
            .to_string();
        eprintln!("{error}\n(in {:.1} s)", started.elapsed().as_secs_f64());
        for expected in [
            "links.html: the link to missing.html is broken (HTTP 404)",
            "links.html: the link \"ch02.html#no-such-section\" names no id \"no-such-section\" on ch02.html",
            "links.html: the link \"#nope\" names no id \"nope\" on links.html",
            "outputs.html: measured output 1 (\"Measured output of cargo run -p empty.\") follows an empty <pre>",
            "outputs.html: measured output 2 (\"Measured output of cargo run -p nothing.\") does not follow a <pre>",
            "figures.html: figure 1 has an <svg> without a <title>",
            "figures.html: figure 2 has no <svg>",
            "figures.html: browser error: Failed to load resource: the server responded with a status of 404 (Not Found) (http://127.0.0.1:",
            "quiz.html: quiz question 1 (#stuck): checking the wrong choice 0 shows \"\", not \"Not quite...\"",
            "quiz.html: quiz question 2 (#nowhere): data-answer=\"3\" names no choice",
            "predict.html: prediction #early: its result shows before any guess",
            "console.html: console.error: boom from the page",
            "console.html: uncaught exception: Error: kaboom (http://127.0.0.1:",
            "raw.html: a raw `{{#` reached the HTML",
            "index.html (search): searching for \"zyzzyva\" shows 1 result(s), none linking to ch01.html: /ch02.html",
        ] {
            assert!(error.contains(expected), "missing {expected:?} in:\n{error}");
        }
        // print.html holds every page, and so every problem once more (but
        // the quiz's and the prediction's, which are checked on their pages).
        assert_eq!(error.matches("\n  print.html: ").count(), 11, "{error}");
        assert_eq!(error.matches("\n  ").count(), 15 + 11, "{error}");
        for page in ["ch01.html", "ch02.html", "index.html"] {
            let named = format!("\n  {page}:");
            assert!(!error.contains(&named), "{page} has no problem:\n{error}");
        }
    }

    #[test]
    fn browser_pages_are_the_chapters() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["index.html", "ch01.html", "print.html", "toc.html", "404.html", "x.css"] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("part")).unwrap();
        std::fs::write(dir.path().join("part/print.html"), "").unwrap();
        assert_eq!(
            chapter_pages(dir.path()).unwrap(),
            ["ch01.html", "index.html", "part/print.html", "print.html"]
        );
    }
}
