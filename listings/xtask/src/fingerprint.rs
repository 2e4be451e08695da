//! What a measured output depends on, hashed: when the hash changes, the
//! output is stale and must be measured again.
//!
//! The inputs are the listing's source, the chapter's manifest and any shared
//! module of the chapter (not its other listings), the listing's flags and
//! run count, the support modules the listing's code names and the support
//! crate's manifest, the `[workspace.dependencies]` entries (versions and
//! features) the chapter and support inherit, the locked versions of exactly
//! the packages the chapter depends on, and the workspace's release profile.
//! Adding a dependency to another chapter, editing another listing or a
//! support module it does not use, leaves this listing's output fresh.
//!
//! A Python twin's inputs are its script, `support/python/` (the helper and
//! the lock file of its packages), and the latency server's sources. The
//! rustc and interpreter versions are not inputs: they vary by reader, and
//! the output's provenance records them.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::project::{Listing, Project, walk};

/// The fingerprint of `listing`, as hex.
pub fn fingerprint(project: &Project, listing: &Listing) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut feed = |label: &str, bytes: &[u8]| {
        hasher.update((label.len() as u64).to_le_bytes());
        hasher.update(label.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };

    for path in input_files(project, listing)? {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        feed(&project.relative(&path), &bytes);
    }
    let flags = serde_json::to_vec(&(&listing.spec.args, listing.spec.runs))?;
    feed("measure.toml entry", &flags);
    // A declared server's version is part of the output's provenance.
    if !listing.spec.servers.is_empty() {
        feed("measure.toml servers", listing.spec.servers.join(" ").as_bytes());
    }
    // A twin compiles nothing of its chapter; it runs the support crate's
    // latency server, and may import the Rust extension module.
    let mut packages = vec![match listing.spec.python {
        true => "support",
        false => listing.chapter.as_str(),
    }];
    if imports_extension(project, listing) {
        packages.push(crate::python::EXTENSION);
    }
    for package in packages {
        feed("Cargo.lock closure", locked_closure(project, package)?.as_bytes());
    }
    feed("release profile", release_profile(project)?.as_bytes());
    feed(
        "[workspace.dependencies] inherited",
        inherited_dependencies(project, listing)?.as_bytes(),
    );
    Ok(hex(&hasher.finalize()))
}

/// The files whose bytes the output depends on, sorted.
fn input_files(project: &Project, listing: &Listing) -> Result<Vec<PathBuf>> {
    let chapter = project.chapter_dir(&listing.chapter);
    let support = project.workspace().join("support");
    let mut files = BTreeSet::new();
    files.insert(project.source(listing));
    files.insert(support.join("Cargo.toml"));
    if listing.spec.python {
        // The twin, its helper and the lock file of its packages, and the
        // latency server it may start; not the chapter's Rust code.
        files.extend(
            walk(&project.workspace().join(crate::python::HELPER_DIR))?
                .into_iter()
                .filter(|f| !is_cache(f)),
        );
        files.extend(
            Some(support.join("src/bin/latency_server.rs")).filter(|server| server.is_file()),
        );
        if imports_extension(project, listing) {
            let extension = project.workspace().join(crate::python::EXTENSION);
            files.insert(extension.join("Cargo.toml"));
            files.extend(walk(&extension.join("src"))?);
        }
    } else {
        files.insert(chapter.join("Cargo.toml"));
        for path in walk(&chapter.join("src"))? {
            let relative = path.strip_prefix(&chapter).unwrap_or(&path);
            let is_other_program =
                relative.starts_with("src/bin") || relative == Path::new("src/main.rs");
            if !is_other_program {
                files.insert(path);
            }
        }
    }
    let mut code = String::new();
    for path in &files {
        if path.extension().is_some_and(|e| e == "rs") {
            code.push_str(&std::fs::read_to_string(path).unwrap_or_default());
        }
    }
    files.extend(support_modules(project, &code));
    Ok(files.into_iter().collect())
}

/// The files of the support modules that `code` names (`support::timing`).
/// The modules do not use one another; `lib.rs` only declares them, so a
/// new module leaves every output that does not use it fresh.
fn support_modules(project: &Project, code: &str) -> Vec<PathBuf> {
    let src = project.workspace().join("support/src");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("support::") {
        let name: String = code[at + "support::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let file = src.join(format!("{name}.rs"));
        if !name.is_empty() && file.is_file() {
            found.insert(file);
        }
    }
    found.into_iter().collect()
}

/// Whether a twin imports the Rust extension module.
fn imports_extension(project: &Project, listing: &Listing) -> bool {
    listing.spec.python
        && std::fs::read_to_string(project.source(listing)).is_ok_and(|script| {
            script.contains(&format!("import {}", crate::python::EXTENSION))
                || script.contains(&format!("from {} import", crate::python::EXTENSION))
        })
}

/// Python's bytecode cache, which running a twin by hand may leave behind.
fn is_cache(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "__pycache__")
}

/// The `[workspace.dependencies]` entries (versions and features) that the
/// listing's package and the support crate inherit, as canonical text.
fn inherited_dependencies(project: &Project, listing: &Listing) -> Result<String> {
    let read = |path: PathBuf| -> Result<toml::Table> {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", project.relative(&path)))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid", project.relative(&path)))
    };
    let workspace = read(project.workspace().join("Cargo.toml"))?;
    let shared = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table);
    let mut manifests = vec![project.workspace().join("support/Cargo.toml")];
    if !listing.spec.python {
        manifests.push(project.chapter_dir(&listing.chapter).join("Cargo.toml"));
    }
    let mut entries = BTreeSet::new();
    for manifest in manifests {
        let manifest = read(manifest)?;
        for section in ["dependencies", "build-dependencies"] {
            let Some(table) = manifest.get(section).and_then(toml::Value::as_table) else {
                continue;
            };
            for (name, entry) in table {
                let inherits = entry.get("workspace").and_then(toml::Value::as_bool) == Some(true);
                if let Some(inherited) = shared.and_then(|s| s.get(name)).filter(|_| inherits) {
                    entries.insert(format!("{name} = {inherited}"));
                }
            }
        }
    }
    Ok(entries.into_iter().collect::<Vec<_>>().join("\n"))
}

/// The `[[package]]` entries of `Cargo.lock` that `package` depends on,
/// directly or not, as canonical text.
fn locked_closure(project: &Project, package: &str) -> Result<String> {
    let path = project.workspace().join("Cargo.lock");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", project.relative(&path)))?;
    let lock = parsed_lock(&text)?;
    let packages: Vec<&toml::Table> = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .map(|array| array.iter().filter_map(toml::Value::as_table).collect())
        .unwrap_or_default();
    let field = |table: &toml::Table, key: &str| {
        table.get(key).and_then(toml::Value::as_str).unwrap_or("").to_string()
    };
    // A dependency is written "name", or "name version" when several
    // versions are locked, or "name version (source)".
    let resolve = |dependency: &str| -> Vec<usize> {
        let mut words = dependency.split_whitespace();
        let name = words.next().unwrap_or("");
        let version = words.next();
        (0..packages.len())
            .filter(|&i| field(packages[i], "name") == name)
            .filter(|&i| version.is_none_or(|v| field(packages[i], "version") == v))
            .collect()
    };

    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<usize> = resolve(package).into();
    while let Some(i) = queue.pop_front() {
        if !seen.insert(i) {
            continue;
        }
        let dependencies = packages[i]
            .get("dependencies")
            .and_then(toml::Value::as_array)
            .cloned()
            .unwrap_or_default();
        for dependency in dependencies.iter().filter_map(toml::Value::as_str) {
            queue.extend(resolve(dependency));
        }
    }
    // What is compiled is each package's name, version and source: the text
    // of its `dependencies` list is not hashed, because Cargo rewrites "name"
    // as "name version" whenever another package brings in a second version,
    // which changes nothing this listing compiles.
    let mut entries: Vec<String> = seen
        .iter()
        .map(|&i| {
            let package = packages[i];
            ["name", "version", "source", "checksum"].map(|key| field(package, key)).join(" ")
        })
        .collect();
    entries.sort();
    Ok(entries.join("\n"))
}

/// `Cargo.lock` parsed, once per content: a book build fingerprints every
/// listing, and parsing the lock each time was most of a warm build.
fn parsed_lock(text: &str) -> Result<std::sync::Arc<toml::Table>> {
    use std::sync::{Arc, Mutex};
    static LAST: Mutex<Option<(String, Arc<toml::Table>)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((seen, table)) = last.as_ref()
        && seen == text
    {
        return Ok(Arc::clone(table));
    }
    let table: Arc<toml::Table> =
        Arc::new(toml::from_str(text).context("Cargo.lock is not valid TOML")?);
    *last = Some((text.to_string(), Arc::clone(&table)));
    Ok(table)
}

/// The workspace's `[profile.release]`, as canonical text.
fn release_profile(project: &Project) -> Result<String> {
    let path = project.workspace().join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", project.relative(&path)))?;
    let manifest: toml::Table =
        toml::from_str(&text).context("listings/Cargo.toml is not valid")?;
    let profile = manifest
        .get("profile")
        .and_then(|p| p.get("release"))
        .map(toml::Value::to_string)
        .unwrap_or_default();
    Ok(profile)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use crate::fixture::{LISTING, listing, workbook, write};
    use crate::measure::stale;

    /// Applies `change` to a fresh fixture and says whether ch99/waiting
    /// became stale.
    fn check(change: impl FnOnce(&std::path::Path), expected_stale: bool) {
        let (dir, project) = workbook();
        let all = project.listings().unwrap();
        let stale_before = stale(&project, &all).unwrap();
        assert_eq!(
            stale_before.iter().map(|l| l.id()).collect::<Vec<_>>(),
            ["ch99/other"],
            "only the listing with no output starts stale"
        );
        change(dir.path());
        let all = project.listings().unwrap();
        let now_stale = stale(&project, &all).unwrap().iter().any(|l| l.id() == "ch99/waiting");
        assert_eq!(now_stale, expected_stale);
    }

    #[test]
    fn a_changed_listing_is_stale() {
        check(
            |root| write(root, "listings/ch99/src/bin/waiting.rs", &LISTING.replace("5", "6")),
            true,
        );
    }

    #[test]
    fn changed_support_code_or_flags_or_locked_dependencies_are_stale() {
        check(
            |root| {
                write(
                    root,
                    "listings/support/Cargo.toml",
                    "[package]\nname = \"support\"\n[dependencies]\nlibc = \"0.2\"\n",
                )
            },
            true,
        );
        check(
            |root| {
                let measure = "[[listing]]\nname = \"waiting\"\nruns = 3\nargs = [\"--fast\"]\n\n[[listing]]\nname = \"other\"\n";
                write(root, "listings/ch99/measure.toml", measure)
            },
            true,
        );
        check(
            |root| {
                let lock = std::fs::read_to_string(root.join("listings/Cargo.lock")).unwrap();
                write(
                    root,
                    "listings/Cargo.lock",
                    &lock.replace("version = \"0.2.1\"", "version = \"0.2.2\""),
                );
            },
            true,
        );
        check(
            |root| {
                let manifest = std::fs::read_to_string(root.join("listings/Cargo.toml")).unwrap();
                write(
                    root,
                    "listings/Cargo.toml",
                    &manifest.replace("debug = false", "debug = true"),
                );
            },
            true,
        );
    }

    #[test]
    fn what_the_listing_does_not_depend_on_leaves_it_fresh() {
        // Another listing of the same chapter, the tour, a dependency of
        // another package, a new chapter in the workspace: none of them.
        check(
            |root| write(root, "listings/ch99/src/bin/other.rs", "fn main() { println!(); }\n"),
            false,
        );
        check(
            |root| write(root, "listings/ch99/src/main.rs", "fn main() { println!(); }\n"),
            false,
        );
        check(
            |root| {
                let lock = std::fs::read_to_string(root.join("listings/Cargo.lock")).unwrap();
                write(
                    root,
                    "listings/Cargo.lock",
                    &lock.replace("version = \"1.0.0\"", "version = \"1.0.1\""),
                );
            },
            false,
        );
        check(
            |root| {
                let manifest = std::fs::read_to_string(root.join("listings/Cargo.toml")).unwrap();
                write(
                    root,
                    "listings/Cargo.toml",
                    &manifest.replace("\"support\"]", "\"support\", \"ch98\"]"),
                );
            },
            false,
        );
    }

    /// The fixture with `waiting` naming `support::timing` and inheriting
    /// `libc` from the workspace, its output fresh again; then `change`.
    fn check_precise(change: impl FnOnce(&std::path::Path), expected_stale: bool) {
        check(
            |root| {
                let project = crate::project::Project { root: root.to_path_buf() };
                write(root, "listings/support/src/timing.rs", "//! Clocks.\n");
                write(root, "listings/support/src/latency.rs", "//! A slow server.\n");
                let source = format!("{LISTING}// It would time itself with support::timing.\n");
                write(root, "listings/ch99/src/bin/waiting.rs", &source);
                let manifest = std::fs::read_to_string(root.join("listings/Cargo.toml")).unwrap();
                let shared = "\n[workspace.dependencies]\nlibc = { version = \"0.2\", features = [\"std\"] }\nanyhow = \"1\"\n";
                write(root, "listings/Cargo.toml", &format!("{manifest}{shared}"));
                write(
                    root,
                    "listings/ch99/Cargo.toml",
                    "[package]\nname = \"ch99\"\n[dependencies]\nlibc.workspace = true\n",
                );
                let waiting = listing(&project, "ch99/waiting");
                let path = project.output_path(&waiting);
                let mut output = crate::output::Output::load(&path).unwrap();
                output.fingerprint = super::fingerprint(&project, &waiting).unwrap();
                output.save(&path).unwrap();
                change(root);
            },
            expected_stale,
        );
    }

    #[test]
    fn a_used_support_module_or_an_inherited_feature_makes_it_stale_and_nothing_else_does() {
        check_precise(|_| {}, false);
        check_precise(|root| write(root, "listings/support/src/timing.rs", "//! Changed.\n"), true);
        check_precise(
            |root| write(root, "listings/support/src/latency.rs", "//! Changed.\n"),
            false,
        );
        check_precise(
            |root| write(root, "listings/support/src/lib.rs", "//! Changed.\npub mod new;\n"),
            false,
        );
        let edit_workspace = |from: &'static str, to: &'static str| {
            move |root: &std::path::Path| {
                let manifest = std::fs::read_to_string(root.join("listings/Cargo.toml")).unwrap();
                assert!(manifest.contains(from));
                write(root, "listings/Cargo.toml", &manifest.replace(from, to));
            }
        };
        check_precise(edit_workspace("[\"std\"]", "[\"std\", \"extra_traits\"]"), true);
        check_precise(edit_workspace("anyhow = \"1\"", "anyhow = \"1.0.99\""), false);
    }

    #[test]
    fn the_fingerprint_is_stable() {
        let (_dir, project) = workbook();
        let waiting = listing(&project, "ch99/waiting");
        assert_eq!(
            super::fingerprint(&project, &waiting).unwrap(),
            super::fingerprint(&project, &waiting).unwrap()
        );
    }
}
