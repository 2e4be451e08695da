//! The workbook on disk: where the chapters, listings and outputs are.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The repository: the book at its root, the workspace under `listings/`.
#[derive(Clone, Debug)]
pub struct Project {
    /// The repository root (where `book.toml` is).
    pub root: PathBuf,
}

/// A listing as `measure.toml` declares it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListingSpec {
    /// The binary's name: `src/bin/<name>.rs`.
    pub name: String,
    /// Flags for the book's measurement.
    #[serde(default)]
    pub args: Vec<String>,
    /// Flags for the quick run of `cargo xtask test`.
    #[serde(default)]
    pub quick: Vec<String>,
    /// How many times the measurement runs it.
    #[serde(default = "one")]
    pub runs: u32,
    /// Seconds one run may take before it is killed.
    #[serde(default = "sixty")]
    pub timeout_s: u64,
    /// Set for a listing whose lesson is a compiler error: the error code it
    /// must fail with (`E0277`), or for an error without a code, the words
    /// its message must contain. Its source is `compile_fail/<name>.rs`, it
    /// uses the standard library only, and it is compiled, never run.
    #[serde(default)]
    pub compile_fail: Option<String>,
    /// Set for a CPython twin: its source is `python/<name>.py`, run by the
    /// twins' environment (`cargo xtask python chNN/<name>`), never compiled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub python: bool,
    /// Programs the listing starts and talks to (`redis-server`): each
    /// one's version goes into the output's provenance and its caption.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// What it shows, in a few words: its heading in the chapter's tour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Flags for the chapter's tour (`cargo run -p chNN`), when they are not
    /// `args`: classroom sizes, seconds rather than minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tour: Option<Vec<String>>,
}

fn one() -> u32 {
    1
}

fn sixty() -> u64 {
    60
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasureToml {
    /// The chapter's subject, for its tour: `processes`.
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    listing: Vec<ListingSpec>,
}

/// One listing of one chapter: `ch01/blocking_fetch`.
#[derive(Clone, Debug)]
pub struct Listing {
    /// The chapter package, `ch01`.
    pub chapter: String,
    /// Its entry in the chapter's `measure.toml`.
    pub spec: ListingSpec,
}

impl Listing {
    /// `ch01/blocking_fetch`, the name pages use.
    pub fn id(&self) -> String {
        format!("{}/{}", self.chapter, self.spec.name)
    }

    /// The command a reader types to run it with `args`, in a terminal.
    pub fn command(&self, args: &[String]) -> String {
        let base = match self.spec.python {
            true => format!("cargo xtask python {self}"),
            false => format!("cargo run --release -p {} --bin {}", self.chapter, self.spec.name),
        };
        match args {
            [] => base,
            args => format!("{base} -- {}", args.join(" ")),
        }
    }
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.chapter, self.spec.name)
    }
}

impl Project {
    /// The project this xtask was built from.
    pub fn here() -> Project {
        // `cargo run` says at run time where the xtask's manifest is; the
        // path compiled in is only a fallback, since a target directory
        // shared between two checkouts can hold a binary built in the other.
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        let xtask = manifest.as_path();
        let root = xtask.parent().and_then(Path::parent).expect("xtask lives at listings/xtask");
        Project { root: root.to_path_buf() }
    }

    /// `listings/`, the workspace.
    pub fn workspace(&self) -> PathBuf {
        self.root.join("listings")
    }

    /// The workspace's target folder: `$CARGO_TARGET_DIR`, or `listings/target`.
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| self.workspace().join("target"), PathBuf::from)
    }

    /// `listings/chNN/`.
    pub fn chapter_dir(&self, chapter: &str) -> PathBuf {
        self.workspace().join(chapter)
    }

    /// The listing's source file.
    pub fn source(&self, listing: &Listing) -> PathBuf {
        let (folder, extension) = match (&listing.spec.compile_fail, listing.spec.python) {
            (_, true) => ("python", "py"),
            (Some(_), false) => ("compile_fail", "rs"),
            (None, false) => ("src/bin", "rs"),
        };
        self.chapter_dir(&listing.chapter)
            .join(folder)
            .join(format!("{}.{extension}", listing.spec.name))
    }

    /// The listing's committed measured output.
    pub fn output_path(&self, listing: &Listing) -> PathBuf {
        self.chapter_dir(&listing.chapter)
            .join("outputs")
            .join(format!("{}.json", listing.spec.name))
    }

    /// The commit the book is built from (`git rev-parse HEAD`), for links
    /// that stay true to the page; `main` where there is no git.
    pub fn revision(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "main".into())
    }

    /// The book's edition: `git describe --tags --always --dirty` (a tag, or
    /// the commit's short hash), or `unversioned` where there is no git.
    pub fn version(&self) -> String {
        self.git(&["describe", "--tags", "--always", "--dirty"])
            .unwrap_or_else(|| "unversioned".into())
    }

    /// What `git ARGS` prints in the project, trimmed, if it succeeds.
    fn git(&self, args: &[&str]) -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// A path relative to the repository root, for messages.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }

    /// Every chapter package (`listings/chNN` with a `measure.toml`), sorted.
    pub fn chapters(&self) -> Result<Vec<String>> {
        let mut chapters = Vec::new();
        let workspace = self.workspace();
        let entries = std::fs::read_dir(&workspace)
            .with_context(|| format!("cannot read {}", workspace.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_chapter_name(&name) && entry.path().join("measure.toml").is_file() {
                chapters.push(name);
            }
        }
        chapters.sort();
        Ok(chapters)
    }

    /// The subject of a chapter, as its `measure.toml` says (`title`).
    pub fn chapter_title(&self, chapter: &str) -> Result<Option<String>> {
        Ok(self.measure_toml(chapter)?.title)
    }

    fn measure_toml(&self, chapter: &str) -> Result<MeasureToml> {
        let path = self.chapter_dir(chapter).join("measure.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", self.relative(&path)))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid", self.relative(&path)))
    }

    /// Every listing of every chapter, in book order.
    pub fn listings(&self) -> Result<Vec<Listing>> {
        let mut all: Vec<Listing> = Vec::new();
        for chapter in self.chapters()? {
            let path = self.chapter_dir(&chapter).join("measure.toml");
            let parsed = self.measure_toml(&chapter)?;
            for spec in parsed.listing {
                let listing = Listing { chapter: chapter.clone(), spec };
                if let Some(other) = all.iter().find(|l| l.spec.name == listing.spec.name) {
                    // Binaries share one target directory, so names must be unique.
                    bail!("{listing} and {other} have the same binary name; rename one");
                }
                if listing.spec.python && listing.spec.compile_fail.is_some() {
                    bail!(
                        "{}: {listing} is a Python twin and cannot be compile_fail",
                        self.relative(&path)
                    );
                }
                if listing.spec.runs == 0 {
                    bail!("{}: {listing} has runs = 0", self.relative(&path));
                }
                if !self.source(&listing).is_file() {
                    bail!(
                        "{}: {listing} names {}, which does not exist",
                        self.relative(&path),
                        self.relative(&self.source(&listing))
                    );
                }
                all.push(listing);
            }
        }
        Ok(all)
    }

    /// The listing with this id (`ch01/blocking_fetch`), or an error that
    /// lists the known ones.
    pub fn find<'a>(&self, listings: &'a [Listing], id: &str) -> Result<&'a Listing> {
        listings.iter().find(|l| l.id() == id).with_context(|| {
            let known: Vec<String> = listings.iter().map(Listing::id).collect();
            format!("unknown listing `{id}` (known: {})", known.join(", "))
        })
    }
}

fn is_chapter_name(name: &str) -> bool {
    name.len() == 4 && name.starts_with("ch") && name[2..].bytes().all(|b| b.is_ascii_digit())
}

/// Every file below `dir`, recursively and sorted; nothing if `dir` does not
/// exist. The one directory walker of xtask.
pub fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(walk(&path)?);
        } else {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
