//! The Python side: the virtual environment the CPython twins run in, made
//! from `python3` and the pinned, hashed `support/python/requirements.lock`,
//! under the workspace's `target/`, so a reader needs nothing but `python3`
//! (with its `venv` module) and nothing is installed outside the checkout.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::project::Project;
use crate::test::run;

/// The lock file of the twins' packages, relative to the workspace.
pub const LOCK: &str = "support/python/requirements.lock";

/// The folder of the Python helper every twin imports (`import workbook`).
pub const HELPER_DIR: &str = "support/python";

/// The interpreter the environment is made from: `$WORKBOOK_PYTHON`, or
/// `python3` on the path.
fn base_interpreter() -> Result<PathBuf> {
    if let Some(named) = std::env::var_os("WORKBOOK_PYTHON") {
        return Ok(PathBuf::from(named));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("python3"))
        .find(|candidate| candidate.is_file())
        .context(
            "python3 is missing; the Python twins need it: sudo apt-get install python3 python3-venv",
        )
}

/// A free-threaded CPython on this machine, if there is one:
/// `$WORKBOOK_FREE_THREADED`, else `python3.14t` or `python3.13t` on `path`,
/// kept only if it says its GIL is disabled. Nothing is ever downloaded.
pub fn free_threaded(path: &std::ffi::OsStr) -> Option<PathBuf> {
    let named = std::env::var_os(FREE_THREADED_ENV).map(PathBuf::from);
    let found = named.or_else(|| {
        ["python3.14t", "python3.13t"].iter().find_map(|name| {
            std::env::split_paths(path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
    })?;
    let probe = Command::new(&found)
        .args(["-c", "import sys; print(getattr(sys, '_is_gil_enabled', lambda: True)())"])
        .output()
        .ok()?;
    (probe.status.success() && String::from_utf8_lossy(&probe.stdout).trim() == "False")
        .then_some(found)
}

/// The variable that names a free-threaded interpreter to a twin, which
/// then measures it too (chapter 2's `gil_cpu_threads`).
pub const FREE_THREADED_ENV: &str = "WORKBOOK_FREE_THREADED";

/// The environment's folder: `listings/target/python`, beside cargo's
/// output but never in a shared `CARGO_TARGET_DIR`: it belongs to this
/// checkout (its `.pth` file names this checkout's helper).
pub fn venv_dir(project: &Project) -> PathBuf {
    project.workspace().join("target/python")
}

/// The environment's interpreter, made (or remade, when the lock file, the
/// base interpreter or the checkout's place changed) first if needed.
pub fn ensure_venv(project: &Project) -> Result<PathBuf> {
    let base = base_interpreter()?;
    let venv = venv_dir(project);
    let python = venv.join("bin/python");
    let lock = project.workspace().join(LOCK);
    let helper = project.workspace().join(HELPER_DIR);
    let version = run_text(Command::new(&base).arg("--version"))
        .with_context(|| format!("cannot run {}", base.display()))?;
    let mut stamp = Sha256::new();
    stamp.update(std::fs::read(&lock).with_context(|| format!("cannot read {LOCK}"))?);
    stamp.update(version.as_bytes());
    stamp.update(base.as_os_str().as_encoded_bytes());
    stamp.update(helper.as_os_str().as_encoded_bytes());
    let stamp: String = stamp.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let stamp_file = venv.join("workbook-stamp");
    if python.is_file() && std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return Ok(python);
    }

    eprintln!(
        "python: making the twins' environment in {} ({}, packages from {LOCK})",
        project.relative(&venv),
        version.trim()
    );
    if venv.exists() {
        std::fs::remove_dir_all(&venv)?;
    }
    run(
        Command::new(&base).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv (on Debian: sudo apt-get install python3-venv)",
    )?;
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "-r",
            ])
            .arg(&lock),
        "pip install -r requirements.lock",
    )?;
    // A .pth file puts the helper on the environment's path, so a twin runs
    // as a plain script: target/python/bin/python listings/chNN/python/x.py
    let site = run_text(
        Command::new(&python)
            .args(["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]),
    )?;
    std::fs::write(Path::new(site.trim()).join("workbook.pth"), format!("{}\n", helper.display()))?;
    std::fs::write(&stamp_file, stamp)?;
    Ok(python)
}

/// The Rust extension modules the twins import (chapter 2's `gil_ext`),
/// built in release mode and copied under the names CPython imports
/// (`gil_ext.abi3.so`) into one folder, which twins get on `PYTHONPATH`.
/// Built only here, so neither the book nor clippy needs Python.
pub fn build_extensions(project: &Project) -> Result<PathBuf> {
    let folder = project.workspace().join("target/python-ext");
    std::fs::create_dir_all(&folder)?;
    let workspace = project.workspace();
    let manifest = workspace.join(EXTENSION).join("Cargo.toml");
    if !manifest.is_file() {
        return Ok(folder);
    }
    let output = crate::run::cargo()
        .current_dir(&workspace)
        .args(["build", "--release", "--quiet", "--package", EXTENSION, "--message-format=json"])
        .output()
        .context("cannot start cargo build for the Python extension")?;
    if !output.status.success() {
        bail!("cargo build -p {EXTENSION} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    let library = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == EXTENSION
        })
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(PathBuf::from))
        .find(|name| name.extension().is_some_and(|e| e == "so"))
        .context("cargo built no shared library for the Python extension")?;
    std::fs::copy(&library, folder.join(format!("{EXTENSION}.abi3.so")))
        .with_context(|| format!("cannot copy {}", library.display()))?;
    Ok(folder)
}

/// The package of the twins' Rust extension module.
pub const EXTENSION: &str = "gil_ext";

/// `cargo xtask python ID -- FLAGS`: runs one twin by hand, as a reader
/// would, in the twins' environment, beside the latency server it may use;
/// returns the twin's own exit code.
pub fn run_twin(project: &Project, id: &str, flags: &[String]) -> Result<ExitCode> {
    let listings = project.listings()?;
    let listing = project.find(&listings, id)?;
    if !listing.spec.python {
        bail!(
            "{listing} is a Rust listing: cargo run -p {} --bin {}",
            listing.chapter,
            listing.spec.name
        );
    }
    let programs = crate::run::programs(project, std::slice::from_ref(listing), true)?;
    let program = &programs[&listing.id()];
    let status = program
        .command(flags)
        .status()
        .with_context(|| format!("cannot start {}", program.path.display()))?;
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
}

/// The interpreter's provenance, for an output: `CPython 3.11.7`, and
/// whether its GIL is enabled.
pub fn interpreter(python: &Path) -> Result<String> {
    let text = run_text(Command::new(python).args([
        "-c",
        "import sys; gil = getattr(sys, '_is_gil_enabled', lambda: True)(); \
         print(f\"CPython {sys.version.split()[0]}\" + ('' if gil else ' (free-threaded, GIL disabled)'))",
    ]))?;
    Ok(text.trim().to_string())
}

fn run_text(command: &mut Command) -> Result<String> {
    let output = command.output()?;
    if !output.status.success() {
        bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::free_threaded;

    fn stand_in(dir: &std::path::Path, name: &str, answer: &str) {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\necho {answer}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_free_threaded_interpreter_is_found_only_if_its_gil_is_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().as_os_str();
        assert_eq!(free_threaded(path), None, "nothing on the path");
        stand_in(dir.path(), "python3.13t", "True");
        assert_eq!(free_threaded(path), None, "a build whose GIL is on is not free-threaded");
        stand_in(dir.path(), "python3.13t", "False");
        assert_eq!(free_threaded(path), Some(dir.path().join("python3.13t")));
        stand_in(dir.path(), "python3.14t", "False");
        assert_eq!(free_threaded(path), Some(dir.path().join("python3.14t")), "the newest first");
    }
}
