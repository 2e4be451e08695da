//! A listing whose lesson is a compiler error: compiled with rustc, its
//! message recorded, and an error if it compiles or fails otherwise.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::project::{Listing, Project};

/// The command that shows a compile-fail listing's error.
pub fn compile_command(project: &Project, listing: &Listing) -> String {
    format!("rustc --edition 2024 {}", project.relative(&project.source(listing)))
}

/// Compiles a listing whose lesson is a compiler error, and returns the
/// compiler's message, line by line. It is an error if the listing compiles,
/// or fails with another error than the one it is there to show.
pub fn compile_failure(project: &Project, listing: &Listing) -> Result<Vec<String>> {
    let code = listing.spec.compile_fail.as_deref().unwrap_or("");
    let scratch = tempfile::tempdir()?;
    let source = project.relative(&project.source(listing));
    let output = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .current_dir(&project.root)
        .args(["--edition", "2024", "--color", "never", "--crate-type", "bin", "--out-dir"])
        .arg(scratch.path())
        .arg(&source)
        .output()
        .context("cannot run rustc")?;
    let message = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        bail!("{listing} compiled, but its lesson is the compiler error {code}");
    }
    // An error code names the error; some errors have none, and are named
    // by their message instead ("future cannot be sent between threads safely").
    let is_code =
        code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit());
    let reproduced = if is_code {
        message.contains(&format!("error[{code}]"))
    } else {
        message.lines().any(|line| line.starts_with("error") && line.contains(code))
    };
    if !reproduced {
        let expected =
            if is_code { format!("error[{code}]") } else { format!("the error \"{code}\"") };
        bail!("{listing} no longer fails with {expected}; the compiler now says:\n{message}");
    }
    Ok(message.trim_end().lines().map(str::to_string).collect())
}
