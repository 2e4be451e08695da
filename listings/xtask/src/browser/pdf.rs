//! The book as one PDF: `print.html` printed by Chromium (`Page.printToPDF`),
//! after it is checked under print emulation: every chapter, figure and
//! measured output of the chapter pages present, and nothing wider than the
//! printable width of the page.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::json;

use super::chromium::Browser;
use super::server::Server;
use super::tab::Tab;

/// A4, in inches, with margins of 0.4 in: the printable width is 7.47 in,
/// 717 CSS pixels at 96 per inch.
const PAPER: (f64, f64) = (8.27, 11.69);
const MARGIN: f64 = 0.4;

/// What the PDF holds, and what making it took.
#[derive(Debug)]
pub struct Printed {
    pub pages: usize,
    pub bytes: usize,
    pub chapters: usize,
    pub figures: usize,
    pub outputs: usize,
    pub seconds: f64,
}

/// What the chapter pages hold, which the printed book must hold too.
#[derive(Debug, Default, PartialEq)]
pub struct Expected {
    pub chapters: usize,
    pub figures: usize,
    pub outputs: usize,
}

/// Counts the chapters, figures and measured outputs of the built book's
/// pages (not `print.html`, and not `index.html`, which copies the first).
pub fn expected(book_dir: &Path) -> Result<Expected> {
    let mut expected = Expected::default();
    for page in super::chapter_pages(book_dir)? {
        if ["print.html", "index.html"].contains(&page.as_str()) {
            continue;
        }
        let html = std::fs::read_to_string(book_dir.join(&page))?;
        expected.chapters += 1;
        expected.figures += html.matches("<figure class=\"workbook-figure\"").count();
        expected.outputs += html.matches("<em>Measured output of ").count();
    }
    Ok(expected)
}

/// Prints `book_dir/print.html` to `pdf`, or says what would be wrong with it.
pub fn print(book_dir: &Path, pdf: &Path) -> Result<Printed> {
    let started = Instant::now();
    let expected = expected(book_dir)?;
    let server = Server::start(book_dir)?;
    let browser = Browser::launch()?;
    let mut tab = Tab::open(&browser)?;
    let width = ((PAPER.0 - 2.0 * MARGIN) * 96.0).floor();
    tab.call("Emulation.setEmulatedMedia", json!({"media": "print"}))?;
    let metrics = json!({"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": false});
    tab.call("Emulation.setDeviceMetricsOverride", metrics)?;
    // mdBook's print.html calls window.print() once loaded, which starts a
    // print job of its own and leaves none for ours: that call does nothing here.
    let silence = json!({"source": "window.print = () => {};"});
    tab.call("Page.addScriptToEvaluateOnNewDocument", silence)?;
    tab.navigate(&server.url("print.html"))?;
    let found = tab.eval(&format!(
        "(() => {{
            const main = document.querySelector('main') || document.body;
            const wide = [...main.querySelectorAll('*')].filter(el => {{
                const r = el.getBoundingClientRect();
                const clipped = el.tagName === 'PRE' && el.scrollWidth > el.clientWidth + 1;
                return r.width > 0 && (r.right > {width} + 1 || clipped);
            }}).filter(el => !el.closest('pre') || el.tagName === 'PRE');
            return {{
                chapters: main.querySelectorAll('h1').length,
                figures: main.querySelectorAll('figure.workbook-figure').length,
                outputs: [...main.querySelectorAll('em')].filter(e => e.textContent.startsWith('Measured output of ')).length,
                wide: wide.slice(0, 5).map(el => el.tagName.toLowerCase() + ': ' + el.textContent.trim().slice(0, 60)),
                wideCount: wide.length,
            }};
        }})()"
    ))?;
    let count = |key: &str| found[key].as_u64().unwrap_or(0) as usize;
    let mut problems = Vec::new();
    for (what, want, got) in [
        ("chapter titles (h1)", expected.chapters, count("chapters")),
        ("figures", expected.figures, count("figures")),
        ("measured outputs", expected.outputs, count("outputs")),
    ] {
        if got < want {
            problems.push(format!("print.html shows {got} {what}; the pages have {want}"));
        }
    }
    if count("wideCount") > 0 {
        problems.push(format!(
            "{} element(s) are wider than the printable {width} px (or clip their text) under print emulation: {}",
            count("wideCount"),
            found["wide"]
        ));
    }
    if !problems.is_empty() {
        bail!("the printed book is not right:\n  {}", problems.join("\n  "));
    }
    let printed = tab.call(
        "Page.printToPDF",
        json!({
            "paperWidth": PAPER.0, "paperHeight": PAPER.1,
            "marginTop": MARGIN, "marginBottom": MARGIN, "marginLeft": MARGIN, "marginRight": MARGIN,
            "printBackground": true, "preferCSSPageSize": false,
        }),
    )?;
    let data = printed["data"].as_str().context("Page.printToPDF returned no data")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(data)?;
    if !bytes.starts_with(b"%PDF-") {
        bail!("Chromium printed something that is not a PDF");
    }
    let pages = count_pages(&bytes);
    std::fs::write(pdf, &bytes).with_context(|| format!("cannot write {}", pdf.display()))?;
    Ok(Printed {
        pages,
        bytes: bytes.len(),
        chapters: count("chapters"),
        figures: count("figures"),
        outputs: count("outputs"),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The page objects of a PDF: `/Type /Page`, not `/Type /Pages`.
fn count_pages(pdf: &[u8]) -> usize {
    let key = b"/Type /Page";
    pdf.windows(key.len() + 1).filter(|w| w.starts_with(key) && w[key.len()] != b's').count()
}
