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

/// Measures what is stale, then renders the book into `book/`.
pub fn book(project: &Project) -> Result<()> {
    let started = Instant::now();
    let listings = project.listings()?;
    let stale = measure::stale(project, &listings)?;
    if !stale.is_empty() {
        let names: Vec<String> = stale.iter().map(|l| l.id()).collect();
        eprintln!(
            "book: measuring {} stale output(s): {}",
            stale.len(),
            names.join(", ")
        );
    }
    measure::measure(project, &stale)?;
    render(project, None, Workbook::new(project.clone()))?;
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
    let scratch = tempfile::tempdir()?;
    render(
        project,
        Some(scratch.path()),
        Workbook::strict(project.clone()),
    )?;
    eprintln!(
        "check: {} outputs fresh and shown, every directive resolves",
        listings.len()
    );
    Ok(scratch)
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
