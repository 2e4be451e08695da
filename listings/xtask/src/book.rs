//! `cargo xtask book`, `cargo xtask check` and the preprocessor protocol.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mdbook_driver::MDBook;
use mdbook_driver::config::Config;
use mdbook_preprocessor::Preprocessor;

use crate::measure;
use crate::preprocess::Workbook;
use crate::project::Project;

/// Measures what is stale, then renders the book into `book/`; with
/// `compare`, a last page sets every re-measured figure beside the one
/// committed at that revision (`compare.rs`).
pub fn book(project: &Project, compare: Option<&str>) -> Result<()> {
    let started = Instant::now();
    let listings = project.listings()?;
    let stale = measure::stale(project, &listings)?;
    if !stale.is_empty() {
        let names: Vec<String> = stale.iter().map(|l| l.id()).collect();
        eprintln!("book: measuring {} stale output(s): {}", stale.len(), names.join(", "));
    }
    measure::measure(project, &stale)?;
    let preprocessor = match compare {
        Some(rev) => Workbook::with_appendix(project.clone(), crate::compare::page(project, rev)?),
        None => Workbook::new(project.clone()),
    };
    render(project, None, preprocessor)?;
    eprintln!(
        "book: built into {} in {:.1} s",
        project.relative(&project.root.join("book")),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Renders the book with `preprocessor`, into `build_dir` if given (else
/// where `book.toml` says).
pub fn render(project: &Project, build_dir: Option<&Path>, preprocessor: Workbook) -> Result<()> {
    let mut config = Config::from_disk(project.root.join("book.toml"))?;
    // As the stock `mdbook` does: `MDBOOK_OUTPUT__HTML__GIT_REPOSITORY_URL`
    // and the like override `book.toml` (the publish workflow sets that one).
    config.update_from_env()?;
    // The one place the repository is named: each page then links to its
    // source, as each listing does to its file (the preprocessor).
    let url = config.get::<String>("output.html.git-repository-url")?;
    let template = config.get::<String>("output.html.edit-url-template")?;
    if let (Some(url), None) = (url, template) {
        let url = url.trim_end_matches('/');
        config.set("output.html.edit-url-template", format!("{url}/edit/main/{{path}}"))?;
    }
    if let Some(dir) = build_dir {
        config.build.build_dir = dir.to_path_buf();
    }
    let mut book =
        MDBook::load_with_config(&project.root, config).context("cannot load the book")?;
    // `book.toml` names the `workbook` preprocessor as a command, for the
    // stock `mdbook`; registering it here under the same name replaces that
    // command with the same code, run in this process.
    book.with_preprocessor(preprocessor);
    book.build().context("the book does not build")?;
    // mdBook copies every file of src/ into the site, and src/.cargo holds
    // only the `cargo xtask` alias for that folder: no reader needs it.
    let cargo_config = book.build_dir_for("html").join(".cargo");
    if cargo_config.exists() {
        std::fs::remove_dir_all(&cargo_config)?;
    }
    Ok(())
}

/// Outputs fresh, `measure.toml` consistent, every directive resolving.
/// Returns the folder the book was rendered into, for the browser test.
pub fn check(project: &Project) -> Result<tempfile::TempDir> {
    let listings = project.listings()?;
    for chapter in project.chapters()? {
        // Every program in src/bin and compile_fail/ is a listing, and so
        // must be in measure.toml, at the place it says.
        let dir = project.chapter_dir(&chapter);
        let bins = std::fs::read_dir(dir.join("src/bin")).into_iter().flatten();
        let other = |folder: &str| std::fs::read_dir(dir.join(folder)).into_iter().flatten();
        for entry in bins.chain(other("compile_fail")).chain(other("python")) {
            let path = entry?.path();
            let listed = listings.iter().any(|l| project.source(l) == path);
            if path.extension().is_some_and(|e| e == "rs" || e == "py") && !listed {
                bail!(
                    "{} is a listing that {chapter}/measure.toml does not list (compile-fail listings need compile_fail = \"E....\", Python twins python = true); add it there",
                    project.relative(&path)
                );
            }
        }
    }
    crate::tours::check(project)?;
    let stale = measure::stale(project, &listings)?;
    if !stale.is_empty() {
        let lines: Vec<String> = stale
            .iter()
            .map(|l| format!("  {l}: re-measure with `cargo xtask measure {l}`"))
            .collect();
        bail!(
            "{} measured output(s) are missing or stale:\n{}\n(or `cargo xtask book`, which measures what is stale)",
            stale.len(),
            lines.join("\n")
        );
    }
    prose_checked(project)?;
    tidy(project, &listings)?;
    for warning in toolchain_warnings(project, &listings)? {
        eprintln!("warning: {warning}");
    }
    let scratch = tempfile::tempdir()?;
    render(project, Some(scratch.path()), Workbook::strict(project.clone()))?;
    eprintln!("check: {} outputs fresh and shown, every directive resolves", listings.len());
    Ok(scratch)
}

/// Every paragraph that quotes a figure and compares carries its check, or
/// is one of the baseline's, which only shrinks (`prose.rs`).
fn prose_checked(project: &Project) -> Result<()> {
    let mut found = Vec::new();
    let mut pages: Vec<_> = std::fs::read_dir(project.root.join("src"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for path in pages {
        let text = std::fs::read_to_string(&path)?;
        found.extend(crate::prose::unchecked(&project.relative(&path), &text));
    }
    let baseline =
        std::fs::read_to_string(project.root.join(crate::prose::BASELINE)).unwrap_or_default();
    let problems = crate::prose::against_baseline(&found, &baseline);
    if !problems.is_empty() {
        bail!(
            "{} sentence(s) could contradict their figures on another machine:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    Ok(())
}

/// The workbook's conventions hold, or the tidy baseline excuses them.
fn tidy(project: &Project, listings: &[crate::project::Listing]) -> Result<()> {
    let found = crate::tidy::problems(project, listings)?;
    let baseline =
        std::fs::read_to_string(project.root.join(crate::tidy::BASELINE)).unwrap_or_default();
    let problems = crate::tidy::against_baseline(&found, &baseline);
    if !problems.is_empty() {
        bail!("{} listing convention(s) broken:\n{}", problems.len(), problems.join("\n"));
    }
    Ok(())
}

/// Where the reader's rustc or python3 differs from the one that measured
/// the committed outputs: not an error (the outputs stay fresh: they are
/// the book's figures), but re-measuring would record the reader's.
fn toolchain_warnings(
    project: &Project,
    listings: &[crate::project::Listing],
) -> Result<Vec<String>> {
    let mut rustc = std::collections::BTreeSet::new();
    let mut python = std::collections::BTreeSet::new();
    for listing in listings {
        if let Ok(output) = crate::output::Output::load(&project.output_path(listing)) {
            match output.machine.python {
                Some(interpreter) => python.insert(interpreter),
                None => rustc.insert(output.machine.rustc),
            };
        }
    }
    let mut warnings = Vec::new();
    let here = measure::machine()?.rustc;
    if !rustc.is_empty() && !rustc.contains(&here) {
        warnings.push(format!(
            "the outputs were measured with {}; this machine has {here}, so re-measuring would record figures from another compiler",
            rustc.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let version = std::process::Command::new("python3").arg("--version").output();
    if let Ok(version) = version {
        // `python3 --version` says "Python 3.11.7"; outputs say "CPython 3.11.7".
        let here = format!("C{}", String::from_utf8_lossy(&version.stdout).trim());
        if !python.is_empty() && !python.iter().any(|p| p.starts_with(&here)) {
            warnings.push(format!(
                "the Python twins were measured with {}; this machine's python3 is {}",
                python.into_iter().collect::<Vec<_>>().join(", "),
                here.trim_start_matches('C')
            ));
        }
    }
    Ok(warnings)
}

/// The mdBook preprocessor protocol: `preprocess supports <renderer>`, or the
/// book as JSON on stdin and back on stdout.
pub fn preprocess(project: &Project, args: &[String]) -> Result<()> {
    let workbook = Workbook::new(project.clone());
    match args {
        [supports, renderer] if supports == "supports" => {
            if workbook.supports_renderer(renderer)? {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        [] => {
            let (context, book) = mdbook_preprocessor::parse_input(std::io::stdin())?;
            let book = workbook.run(&context, book)?;
            serde_json::to_writer(std::io::stdout(), &book)?;
            Ok(())
        }
        _ => bail!("usage: cargo xtask preprocess [supports <renderer>]"),
    }
}

#[cfg(test)]
mod tests {
    use crate::fixture::workbook;

    #[test]
    fn another_rustc_than_the_outputs_gets_a_warning_not_an_error() {
        let (_dir, project) = workbook();
        let listings = project.listings().unwrap();
        let warnings = super::toolchain_warnings(&project, &listings).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with(
                "the outputs were measured with rustc 1.0.0; this machine has rustc 1."
            ),
            "{warnings:?}"
        );
    }
}
