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
    /// A file of a package of the npm registry, pinned by version and by its
    /// tarball's checksum; fetched with curl into the target folder.
    Npm(&'static NpmFile),
}

/// One file of an npm package, as the browser test loads it.
#[derive(Debug, PartialEq)]
pub struct NpmFile {
    pub package: &'static str,
    pub version: &'static str,
    /// The registry's `dist.integrity` for the tarball: `sha512-<base64>`.
    pub integrity: &'static str,
    /// The file, inside the tarball's `package/` folder.
    pub file: &'static str,
}

/// axe-core, Deque's accessibility engine, which the browser test runs on
/// every page (MPL-2.0; <https://github.com/dequelabs/axe-core>).
pub const AXE: NpmFile = NpmFile {
    package: "axe-core",
    version: "4.14.1",
    integrity: "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    file: "axe.min.js",
};

impl NpmFile {
    /// Where the file is kept: `target/npm/<package>-<version>/<file>`.
    pub fn path(&self) -> PathBuf {
        crate::project::Project::here()
            .target_dir()
            .join("npm")
            .join(format!("{}-{}", self.package, self.version))
            .join(self.file)
    }

    fn url(&self) -> String {
        let name = self.package.rsplit('/').next().unwrap_or(self.package);
        format!("https://registry.npmjs.org/{}/-/{name}-{}.tgz", self.package, self.version)
    }

    /// The file is there, extracted from a tarball whose checksum matched.
    fn present(&self) -> bool {
        let verified = self.path().with_file_name(".integrity");
        self.path().is_file()
            && std::fs::read_to_string(verified).is_ok_and(|text| text.trim() == self.integrity)
    }

    /// Downloads the tarball, checks its checksum, and extracts the file.
    fn fetch(&self, host: &Host) -> Result<()> {
        use base64::Engine;
        use sha2::Digest;
        let Some(curl) = host.find("curl") else { bail!("curl is missing") };
        let tarball = Command::new(curl)
            .args(["-fsSL", "--max-time", "60", &self.url()])
            .env("PATH", &host.path)
            .output()?;
        if !tarball.status.success() {
            bail!("curl could not fetch {}", self.url());
        }
        let digest = sha2::Sha512::digest(&tarball.stdout);
        let integrity =
            format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(digest));
        if integrity != self.integrity {
            bail!("{} does not match its pinned checksum (got {integrity})", self.url());
        }
        let dir = self.path().parent().expect("a folder").to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let tgz = dir.join("package.tgz");
        std::fs::write(&tgz, &tarball.stdout)?;
        let inside = format!("package/{}", self.file);
        let extracted = Command::new("tar")
            .args(["-xzf", "package.tgz", "--strip-components=1", &inside])
            .current_dir(&dir)
            .env("PATH", &host.path)
            .status()?;
        std::fs::remove_file(&tgz)?;
        if !extracted.success() {
            bail!("tar could not extract {inside}");
        }
        std::fs::write(dir.join(".integrity"), self.integrity)?;
        Ok(())
    }
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
        name: "axe-core",
        needed_for: "the accessibility check in the browser test",
        install: Install::Npm(&AXE),
        found: |_| AXE.present(),
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
                Install::Npm(npm) => format!(
                    "cargo xtask preflight, with curl installed and {} reachable",
                    npm.url()
                ),
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
            Install::Debian(_) | Install::Npm(_) => None,
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
            Install::Npm(_) if host.find("curl").is_none() => Some(&["curl"][..]),
            Install::Rustup(_) | Install::Npm(_) => None,
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
    for tool in missing(tools, host) {
        if let Install::Npm(npm) = tool.install {
            eprintln!("preflight: fetching {} {} from the npm registry", npm.package, npm.version);
            if let Err(why) = npm.fetch(host) {
                eprintln!("preflight: could not fetch {}: {why:#}", npm.package);
            }
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
        assert_eq!(
            names,
            ["rustfmt", "clippy", "chromium", "python3 with venv", "axe-core", "redis-server"]
        );
    }

    #[test]
    fn a_missing_npm_file_says_how_to_fetch_it_and_a_forged_one_is_not_found() {
        let axe = TOOLS.iter().find(|t| t.name == "axe-core").unwrap();
        assert_eq!(
            instructions(&[axe]),
            "missing axe-core (for the accessibility check in the browser test): cargo xtask \
             preflight, with curl installed and https://registry.npmjs.org/axe-core/-/axe-core-4.14.1.tgz reachable\n"
        );
        // A file whose checksum was never verified does not count.
        let forged = NpmFile { integrity: "sha512-forged", ..AXE };
        assert!(!forged.present());
    }
}
