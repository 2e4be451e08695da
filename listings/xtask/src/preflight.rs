//! The one owner of set-up: what `cargo xtask test` (and measuring a Python
//! twin) needs besides cargo, checked in well under a second before anything
//! compiles, installed where the command can, and otherwise named with the
//! exact command that installs it.
//!
//! A new component (a server, a package manager) adds one [`Tool`] to
//! [`TOOLS`]; nothing else installs anything, `.ci/run` included.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use crate::run::cargo;

/// Something the test run needs, how to tell it is there, and how to get it.
pub struct Tool {
    /// What a reader would call it: `chromium`.
    pub name: &'static str,
    /// What needs it, for the message.
    pub needed_for: &'static str,
    /// How it is installed.
    pub install: Install,
    /// Whether it is there, seen through `host`.
    found: fn(&Host) -> bool,
    /// Another way to provide it, for the message (`or set CHROMIUM=...`).
    alternative: Option<&'static str>,
}

/// Where a missing tool comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Install {
    /// A rustup component; rustup can always add it.
    Rustup(&'static str),
    /// Debian packages; apt-get can add them when it runs as root.
    Debian(&'static [&'static str]),
}

/// Every tool the test run needs, cheapest check first.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "rustfmt",
        needed_for: "the formatting check",
        install: Install::Rustup("rustfmt"),
        found: |host| host.succeeds(cargo().args(["fmt", "--version"])),
        alternative: None,
    },
    Tool {
        name: "clippy",
        needed_for: "the lint check",
        install: Install::Rustup("clippy"),
        found: |host| host.succeeds(cargo().args(["clippy", "--version"])),
        alternative: None,
    },
    Tool {
        name: "chromium",
        needed_for: "the browser test",
        install: Install::Debian(&["chromium"]),
        found: |host| host.chromium().is_some(),
        alternative: Some("or set CHROMIUM to a Chromium binary"),
    },
    Tool {
        name: "python3 with venv",
        needed_for: "the Python twins",
        install: Install::Debian(&["python3", "python3-venv"]),
        found: |host| {
            host.find("python3").is_some_and(|python| {
                host.succeeds(Command::new(python).args(["-c", "import venv, ensurepip"]))
            })
        },
        alternative: None,
    },
    Tool {
        name: "redis-server",
        needed_for: "chapter 9's job queue",
        install: Install::Debian(&["redis-server"]),
        found: |host| {
            host.find("redis-server")
                .is_some_and(|redis| host.succeeds(Command::new(redis).arg("--version")))
        },
        alternative: None,
    },
];

/// The machine as the preflight sees it: its `PATH`, and whether it may
/// install Debian packages. Tests hide a tool by giving another `PATH`.
pub struct Host {
    /// The search path for programs.
    pub path: OsString,
    /// `$CHROMIUM`, if set.
    pub chromium_override: Option<PathBuf>,
    /// Runs as root with apt-get on the path: a fresh container, or CI.
    pub can_apt: bool,
}

impl Host {
    /// This process's machine.
    pub fn current() -> Host {
        let path = std::env::var_os("PATH").unwrap_or_default();
        // SAFETY: geteuid(2) has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        let mut host = Host {
            path,
            chromium_override: std::env::var_os("CHROMIUM").map(PathBuf::from),
            can_apt: false,
        };
        host.can_apt = root && host.find("apt-get").is_some();
        host
    }

    /// The first executable called `program` on the path.
    pub fn find(&self, program: &str) -> Option<PathBuf> {
        std::env::split_paths(&self.path)
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
    }

    /// The Chromium the browser test will start, if there is one.
    pub fn chromium(&self) -> Option<PathBuf> {
        match &self.chromium_override {
            Some(named) => is_executable(named).then(|| named.clone()),
            None => self
                .find("chromium")
                .or_else(|| Some(PathBuf::from("/usr/bin/chromium")).filter(|p| is_executable(p))),
        }
    }

    fn succeeds(&self, command: &mut Command) -> bool {
        command
            .env("PATH", &self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The tools of `tools` that `host` lacks.
pub fn missing<'a>(tools: &'a [Tool], host: &Host) -> Vec<&'a Tool> {
    tools.iter().filter(|tool| !(tool.found)(host)).collect()
}

/// One line per missing tool, with the exact command that installs it.
pub fn instructions(missing: &[&Tool]) -> String {
    missing
        .iter()
        .map(|tool| {
            let command = match tool.install {
                Install::Rustup(component) => format!("rustup component add {component}"),
                Install::Debian(packages) => {
                    format!("sudo apt-get install {}", packages.join(" "))
                }
            };
            let alternative = tool.alternative.map_or(String::new(), |a| format!(" ({a})"));
            format!("missing {} (for {}): {command}{alternative}\n", tool.name, tool.needed_for)
        })
        .collect()
}

/// Checks every tool; installs what it can (rustup components always,
/// Debian packages as root with apt-get), saying what it installs; fails
/// with one line per tool still missing.
pub fn preflight(tools: &[Tool], host: &Host) -> Result<()> {
    if !cfg!(target_os = "linux") {
        bail!(
            "`cargo xtask test` runs the listings, and they need Linux (/proc, epoll, fork); \
             `cargo xtask book` works here"
        );
    }
    let lacking = missing(tools, host);
    if lacking.is_empty() {
        return Ok(());
    }
    let components: Vec<&str> = lacking
        .iter()
        .filter_map(|tool| match tool.install {
            Install::Rustup(component) => Some(component),
            Install::Debian(_) => None,
        })
        .collect();
    if !components.is_empty() && host.find("rustup").is_some() {
        eprintln!("preflight: installing {}", components.join(", "));
        let _ = Command::new("rustup")
            .args(["component", "add"])
            .args(&components)
            .env("PATH", &host.path)
            .status();
    }
    let packages: Vec<&str> = lacking
        .iter()
        .filter_map(|tool| match tool.install {
            Install::Debian(packages) => Some(packages),
            Install::Rustup(_) => None,
        })
        .flatten()
        .copied()
        .collect();
    if !packages.is_empty() && host.can_apt {
        eprintln!("preflight: installing {} with apt-get", packages.join(", "));
        let apt = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .env("PATH", &host.path)
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        if !(apt(&["update", "-qq"]) && apt(&[&["install", "-y", "-qq"][..], &packages].concat())) {
            eprintln!("preflight: apt-get could not install {}", packages.join(", "));
        }
    }
    let still = missing(tools, host);
    if still.is_empty() {
        return Ok(());
    }
    bail!(
        "this machine lacks what the tests need:\n{}install it, then run `cargo xtask test` again",
        instructions(&still)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_with(path: &Path) -> Host {
        Host { path: path.as_os_str().to_owned(), chromium_override: None, can_apt: false }
    }

    fn fake_program(dir: &Path, name: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    const CHROMIUM: &[Tool] = &[Tool {
        name: "chromium",
        needed_for: "the browser test",
        install: Install::Debian(&["chromium"]),
        found: |host| host.chromium().is_some(),
        alternative: Some("or set CHROMIUM to a Chromium binary"),
    }];

    #[test]
    fn a_hidden_tool_is_named_with_the_command_that_installs_it() {
        let empty = tempfile::tempdir().unwrap();
        let mut host = host_with(empty.path());
        // /usr/bin/chromium may exist here: point the override at nothing.
        host.chromium_override = Some(empty.path().join("chromium"));
        let error = preflight(CHROMIUM, &host).unwrap_err().to_string();
        assert_eq!(
            error,
            "this machine lacks what the tests need:\n\
             missing chromium (for the browser test): sudo apt-get install chromium \
             (or set CHROMIUM to a Chromium binary)\n\
             install it, then run `cargo xtask test` again"
        );
        eprintln!("the preflight's message with Chromium hidden:\n{error}");

        // Put it on the path: the same check passes.
        fake_program(empty.path(), "chromium");
        host.chromium_override = None;
        preflight(CHROMIUM, &host).unwrap();
    }

    #[test]
    fn every_tool_has_a_line_and_python_is_found_on_the_path() {
        let empty = tempfile::tempdir().unwrap();
        let host = host_with(empty.path());
        let python = TOOLS.iter().find(|t| t.name == "python3 with venv").unwrap();
        assert!(!(python.found)(&host), "python3 is hidden by an empty PATH");
        let text = instructions(&[python]);
        assert_eq!(
            text,
            "missing python3 with venv (for the Python twins): sudo apt-get install python3 python3-venv\n"
        );
        let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        assert_eq!(names, ["rustfmt", "clippy", "chromium", "python3 with venv", "redis-server"]);
    }
}
