//! The workbook's automation, run from anywhere in the repository as
//! `cargo xtask <command>`; `cargo xtask help` lists the commands.

mod bad_input;
mod book;
mod browser;
mod compare;
mod compile_fail;
mod condition;
mod copies;
mod exercises;
mod figure;
mod fingerprint;
#[cfg(test)]
mod fixture;
mod measure;
mod output;
mod preflight;
mod preprocess;
mod project;
mod prose;
mod python;
mod quiz;
mod run;
mod serve;
mod test;
mod tidy;
mod tours;
mod versus;

use std::process::ExitCode;

use anyhow::Result;

use crate::project::Project;

/// Every command, one line each: `cargo xtask help` prints it.
const HELP: &str = "\
usage: cargo xtask <command>, from any folder of the repository

  book [--compare [REV]]     measure what is stale, then build the book into book/; with --compare,
                             a last page sets every re-measured figure beside REV's (default HEAD)
  test                       every test and check: preflight, format, clippy, outputs, book, listings
  measure [--all] [ID...]    measure stale listings, all of them, or those named (ch01, ch01/blocking_fetch)
  check                      outputs fresh, measure.toml consistent, every directive resolves
  quick [--repeat N] [--one-core] [ID...]
                             every listing (or those named) once, or N times, at quick sizes, on
                             every core or pinned to one: claims must hold, bad flags get exit 2
  compare [REV]              every re-measured metric beside the one committed at REV (default HEAD)
  python ID [-- FLAG...]     run a Python twin (ch02/gil_cpu_threads) in the twins' environment
  preflight                  check the tools the tests need, and install what can be installed
  tours                      write each chapter's tour (src/main.rs) from its measure.toml
  exercises [--vendor] DIR   the student pack: starters and tests, no solutions
  serve [--port N]           the book on 127.0.0.1 (a free port, or N), rebuilt and reloaded in the
                             open pages whenever a page, quiz, listing or output changes;
                             each listing's output offers to run it again from the page
  copies DIR                 the book as a PDF, the site and the student pack as zips, named with
                             the book's edition (needs Chromium)
  preprocess                 the mdBook preprocessor protocol, for `mdbook build`
  help                       this list

Every command but book, check, tours, exercises and preprocess needs Linux: the listings, inotify, Chromium.";

/// The one-line usage a bad command line gets.
const USAGE: &str = "usage: cargo xtask <book [--compare [REV]] | test | measure [--all] [ID...] | check | quick [--repeat N] [--one-core] [ID...] | compare [REV] | python ID [-- FLAG...] | preflight | tours | exercises [--vendor] DIR | serve [--port N] | copies DIR | preprocess | help>";

fn main() -> ExitCode {
    // The listings and Chromium run in process groups of their own: Ctrl-C
    // ends them with xtask.
    run::end_groups_on_signals();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let project = Project::here();
    let result = match args.first().map(String::as_str) {
        Some("book") => match &args[1..] {
            [] => book::book(&project, None),
            [flag] if flag == "--compare" => book::book(&project, Some("HEAD")),
            [flag, rev] if flag == "--compare" => book::book(&project, Some(rev)),
            _ => return usage_error("book takes nothing, or --compare [REV]"),
        },
        Some("test") if args.len() == 1 => test::test(&project),
        Some("check") if args.len() == 1 => book::check(&project).map(drop),
        Some("measure") => match select(&project, &args[1..]) {
            Ok(chosen) => measure::measure(&project, &chosen),
            Err(problem) => return usage_error(&problem),
        },
        Some("preprocess") => book::preprocess(&project, &args[1..]),
        Some("quick") => {
            let one_core = args[1..].iter().any(|a| a == "--one-core");
            let cores = if one_core { test::Cores::One } else { test::Cores::All };
            let args: Vec<String> = args.iter().filter(|a| *a != "--one-core").cloned().collect();
            let (times, names) = match &args[1..] {
                [flag, times, names @ ..] if flag == "--repeat" => match times.parse::<u32>() {
                    Ok(times) if times > 0 => (times, names),
                    _ => return usage_error("--repeat takes a whole number above 0"),
                },
                names => (1, names),
            };
            let chosen = match names {
                [] => project.listings().map_err(|e| format!("{e:#}")),
                names => select(&project, names),
            };
            match chosen {
                Ok(chosen) => (1..=times).try_for_each(|round| {
                    if times > 1 {
                        eprintln!("quick: round {round} of {times}");
                    }
                    test::quick_runs(&project, &chosen, cores)
                }),
                Err(problem) => return usage_error(&problem),
            }
        }
        Some("exercises") => match args[1..].iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["--vendor", folder] => exercises::pack(&project, folder.as_ref(), true),
            [folder] if !folder.starts_with('-') => {
                exercises::pack(&project, folder.as_ref(), false)
            }
            _ => {
                return usage_error(
                    "exercises takes a folder to write the pack to, and optionally --vendor before it",
                );
            }
        },
        Some("serve") => match &args[1..] {
            [] => serve::serve(&project, 0),
            [flag, port] if flag == "--port" => match port.parse::<u16>() {
                Ok(port) => serve::serve(&project, port),
                Err(_) => return usage_error("--port takes a port number, 0 to 65535"),
            },
            _ => return usage_error("serve takes nothing, or --port N"),
        },
        Some("copies") => match &args[1..] {
            [folder] if !folder.starts_with('-') => copies::copies(&project, folder.as_ref()),
            _ => return usage_error("copies takes a folder to write the PDF and zips to"),
        },
        Some("compare") if args.len() <= 2 => {
            let rev = args.get(1).map_or("HEAD", String::as_str);
            compare::compare(&project, rev).map(|text| print!("{text}"))
        }
        Some("tours") if args.len() == 1 => tours::write(&project).map(|changed| {
            for path in changed {
                eprintln!("tours: wrote {path}");
            }
        }),
        Some("preflight") if args.len() == 1 => {
            preflight::preflight(preflight::TOOLS, &preflight::Host::current())
        }
        Some("python") => match args[1..].split_first() {
            Some((id, rest)) if rest.first().is_none_or(|dash| dash == "--") => {
                match python::run_twin(&project, id, rest.get(1..).unwrap_or_default()) {
                    Ok(code) => return code,
                    Err(error) => Err(error),
                }
            }
            _ => return usage_error("python takes a twin's id, then -- and its flags"),
        },
        Some("help" | "--help" | "-h") => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Some(other) if ["book", "test", "check", "preflight", "tours"].contains(&other) => {
            return usage_error(&format!("`{other}` takes no arguments"));
        }
        Some(other) => return usage_error(&format!("unknown command `{other}`")),
        None => return usage_error("a command is needed"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A bad command line: one line, exit code 2.
fn usage_error(problem: &str) -> ExitCode {
    eprintln!("error: {problem}; {USAGE}");
    ExitCode::from(2)
}

/// The listings `measure` was asked for: the stale ones, all of them, or the
/// ones named by id or by chapter.
fn select(project: &Project, args: &[String]) -> Result<Vec<project::Listing>, String> {
    let listings = project.listings().map_err(|e| format!("{e:#}"))?;
    match args {
        [] => measure::stale(project, &listings).map_err(|e| format!("{e:#}")),
        [all] if all == "--all" => Ok(listings),
        names => {
            let mut chosen = Vec::new();
            for name in names {
                let matching: Vec<_> = listings
                    .iter()
                    .filter(|l| l.id() == *name || l.chapter == *name)
                    .cloned()
                    .collect();
                if matching.is_empty() {
                    return Err(project
                        .find(&listings, name)
                        .err()
                        .map_or_else(|| format!("unknown listing `{name}`"), |e| e.to_string()));
                }
                chosen.extend(matching);
            }
            Ok(chosen)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::project::Project;

    /// The `xtask` alias a cargo run in `dir` would see: cargo reads
    /// `.cargo/config.toml` from the folder and each parent, nearest first.
    fn alias_seen_from(root: &Path, dir: &Path) -> Option<String> {
        dir.ancestors().take_while(|d| d.starts_with(root)).find_map(|d| {
            let text = std::fs::read_to_string(d.join(".cargo/config.toml")).ok()?;
            let config: toml::Table = toml::from_str(&text).ok()?;
            Some(config.get("alias")?.get("xtask")?.as_str()?.to_string())
        })
    }

    /// The names `ARCHITECTURE.md` cites in backticks that are wrong: a path
    /// under `listings/` or `src/` that does not exist, a `support::` module
    /// without its file, a `cargo xtask` command the help does not list.
    /// Placeholders (`chNN`, `<name>`) stand for any name, and `listings/target/`
    /// is made by builds: neither is checked.
    fn missing_names(root: &Path, text: &str) -> Vec<String> {
        let mut missing = Vec::new();
        for name in text.split('`').skip(1).step_by(2) {
            // Placeholders, and what builds make (`listings/target/`), which a
            // fresh clone does not have yet.
            let made = name.starts_with("listings/target");
            if made || name.contains("NN") || name.contains('<') || name.contains("...") {
                continue;
            }
            let exists = if name.starts_with("listings/") || name.starts_with("src/") {
                root.join(name.split(':').next().unwrap_or(name)).exists()
            } else if let Some(path) = name.strip_prefix("support::").filter(|p| !p.is_empty()) {
                let module = path.split(['(', ':']).next().unwrap_or(path);
                root.join(format!("listings/support/src/{module}.rs")).is_file()
            } else if let Some(command) = name.strip_prefix("cargo xtask ") {
                let word = command.split_whitespace().next().unwrap_or("");
                super::HELP.lines().any(|line| line.trim_start().starts_with(word))
            } else {
                true
            };
            if !exists {
                missing.push(name.to_string());
            }
        }
        missing
    }

    #[test]
    fn architecture_names_exist() {
        let project = Project::here();
        let text = std::fs::read_to_string(project.root.join("ARCHITECTURE.md")).unwrap();
        let missing = missing_names(&project.root, &text);
        assert!(missing.is_empty(), "ARCHITECTURE.md names what does not exist: {missing:?}");
        // And the check can fail: one name of each kind that is not there.
        let wrong =
            "`listings/xtask/src/gone.rs`, `support::gone::f`, `cargo xtask gone`, `chNN/<x>`";
        assert_eq!(
            missing_names(&project.root, wrong),
            ["listings/xtask/src/gone.rs", "support::gone::f", "cargo xtask gone"]
        );
    }

    #[test]
    fn cargo_xtask_works_from_every_folder_of_the_repository() {
        let project = Project::here();
        let root = project.root.as_path();
        let mut folders = vec![root.to_path_buf()];
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && ![".git", ".cargo", "book", "target"].contains(&name.as_str()) {
                folders.push(path);
            }
        }
        folders.push(project.chapter_dir("ch01").join("src"));
        for folder in folders {
            let alias = alias_seen_from(root, &folder)
                .unwrap_or_else(|| panic!("no xtask alias reaches {}", folder.display()));
            let words: Vec<&str> = alias.split_whitespace().collect();
            let reaches = match words.iter().position(|w| *w == "--manifest-path") {
                Some(at) => folder.join(words[at + 1]).is_file(),
                // Without a manifest path, cargo finds the workspace above.
                None => folder.starts_with(project.workspace()),
            };
            assert!(
                reaches && words.contains(&"xtask"),
                "`cargo xtask` from {} runs `cargo {alias}`, which does not reach the xtask",
                folder.display()
            );
        }
    }
}
