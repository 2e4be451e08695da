//! The workbook's automation, run from the repository root as `cargo xtask`:
//!
//!     cargo xtask book              measure what is stale, then build the book into book/
//!     cargo xtask test              every test and check (formatting, clippy, tests, outputs, book, listings)
//!     cargo xtask measure [ID...]   measure stale listings, or the ones named (ch01, ch01/blocking_fetch)
//!     cargo xtask measure --all     measure every listing again
//!     cargo xtask check             outputs fresh, measure.toml consistent, every directive resolves
//!     cargo xtask quick [--repeat N]  every listing once (or N times) in quick mode: its claim must hold
//!     cargo xtask exercises [--vendor] FOLDER   the student pack: starters and tests, no solutions
//!
//! `cargo xtask preprocess` is the mdBook preprocessor protocol, for `mdbook build`.

mod book;
mod browser;
mod exercises;
mod figure;
mod fingerprint;
#[cfg(test)]
mod fixture;
mod measure;
mod output;
mod preprocess;
mod project;
mod quiz;
mod test;

use std::process::ExitCode;

use anyhow::Result;

use crate::project::Project;

const USAGE: &str = "usage: cargo xtask <book | test | measure [--all] [ID...] | check | quick [--repeat N] | exercises [--vendor] FOLDER | preprocess>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let project = Project::here();
    let result = match args.first().map(String::as_str) {
        Some("book") if args.len() == 1 => book::book(&project),
        Some("test") if args.len() == 1 => test::test(&project),
        Some("check") if args.len() == 1 => book::check(&project).map(drop),
        Some("measure") => match select(&project, &args[1..]) {
            Ok(chosen) => measure::measure(&project, &chosen),
            Err(problem) => return usage_error(&problem),
        },
        Some("preprocess") => book::preprocess(&project, &args[1..]),
        Some("quick") => match args[1..] {
            [] => test::quick_runs(&project),
            [ref flag, ref times] if flag == "--repeat" => match times.parse::<u32>() {
                Ok(times) if times > 0 => (1..=times).try_for_each(|round| {
                    eprintln!("quick: round {round} of {times}");
                    test::quick_runs(&project)
                }),
                _ => return usage_error("--repeat takes a whole number above 0"),
            },
            _ => return usage_error("quick takes no arguments but --repeat N"),
        },
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
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) if ["book", "test", "check"].contains(&other) => {
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
