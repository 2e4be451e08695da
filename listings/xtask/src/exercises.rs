//! `cargo xtask exercises`: the student pack. A standalone cargo project
//! with every exercise's starter and tests, and no solution, that a teacher
//! hands out; with `--vendor`, its dependencies come with it, so it builds
//! offline in a classroom.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::project::{Project, walk};
use crate::run::cargo;

/// Writes the pack into `out` (which must not exist yet, or be empty).
pub fn pack(project: &Project, out: &Path, vendor: bool) -> Result<()> {
    if out.exists() && out.read_dir()?.next().is_some() {
        bail!("{} exists and is not empty; name a new folder", out.display());
    }
    let workspace = project.workspace();
    let manifest: toml::Table = read_toml(&workspace.join("Cargo.toml"))?;
    let exercises = workspace.join("exercises");

    // The exercises, starters and tests only.
    let mut count = 0;
    for source in walk(&exercises.join("src"))? {
        let relative = source.strip_prefix(&exercises)?;
        match relative.file_name().and_then(|n| n.to_str()) {
            Some("solution.rs") => continue,
            Some("starter.rs") => count += 1,
            _ => {}
        }
        let text = std::fs::read_to_string(&source)?;
        let text = if relative == Path::new("src/lib.rs") { starters_only(&text) } else { text };
        write(&out.join(relative), &text)?;
    }
    // The support crate the tests start servers with, as it is.
    let support = workspace.join("support");
    for source in walk(&support.join("src"))? {
        let relative = source.strip_prefix(&support)?;
        write(&out.join("support").join(relative), &std::fs::read_to_string(&source)?)?;
    }
    let support_manifest = standalone(&read_toml(&support.join("Cargo.toml"))?, &manifest, false)?;
    write(&out.join("support/Cargo.toml"), &support_manifest)?;
    let pack_manifest = standalone(&read_toml(&exercises.join("Cargo.toml"))?, &manifest, true)?;
    write(&out.join("Cargo.toml"), &pack_manifest)?;
    // The same versions of every dependency as the book was tested with.
    std::fs::copy(workspace.join("Cargo.lock"), out.join("Cargo.lock"))?;
    let edition = project.version();
    write(
        &out.join("README.md"),
        &format!("{README}\nThis pack is edition `{edition}` of the book.\n"),
    )?;
    write(&out.join("VERSION"), &format!("{edition}\n"))?;

    if vendor {
        let vendored = cargo()
            .current_dir(out)
            .args(["vendor", "vendor"])
            .output()
            .context("cannot run cargo vendor")?;
        if !vendored.status.success() {
            bail!("cargo vendor failed:\n{}", String::from_utf8_lossy(&vendored.stderr));
        }
        write(&out.join(".cargo/config.toml"), &String::from_utf8_lossy(&vendored.stdout))?;
    }
    eprintln!(
        "exercises: {count} exercises written to {}{}",
        out.display(),
        if vendor { ", dependencies vendored" } else { "" }
    );
    Ok(())
}

/// `lib.rs` with each exercise's module pointing at its starter.
fn starters_only(lib: &str) -> String {
    let mut text = String::new();
    for line in lib.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg_attr(not(feature = \"starters\"), path") {
            continue;
        }
        let prefix = "#[cfg_attr(feature = \"starters\", path = ";
        let line = match line.find(prefix) {
            Some(at) if line.ends_with(")]") => {
                format!("{}#[path = {}]", &line[..at], &line[at + prefix.len()..line.len() - 2])
            }
            _ => line.to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// A member's manifest with every `workspace = true` replaced by what the
/// workspace says, so the pack needs no workspace around it.
fn standalone(member: &toml::Table, workspace: &toml::Table, root: bool) -> Result<String> {
    let shared = |key: &str| {
        workspace.get("workspace").and_then(|w| w.get(key)).and_then(toml::Value::as_table).cloned()
    };
    let package_defaults = shared("package").unwrap_or_default();
    let dependencies = shared("dependencies").unwrap_or_default();
    let mut member = member.clone();

    if let Some(package) = member.get_mut("package").and_then(toml::Value::as_table_mut) {
        for (key, value) in package.iter_mut() {
            if is_inherited(value) {
                *value = package_defaults
                    .get(key)
                    .cloned()
                    .with_context(|| format!("the workspace has no package.{key}"))?;
            }
        }
    }
    for section in ["dependencies", "dev-dependencies"] {
        let Some(table) = member.get_mut(section).and_then(toml::Value::as_table_mut) else {
            continue;
        };
        for (name, value) in table.iter_mut() {
            if !is_inherited(value) {
                continue;
            }
            let mut inherited = dependencies
                .get(name)
                .cloned()
                .with_context(|| format!("the workspace has no dependency {name}"))?;
            if name == "support" {
                inherited = toml::Value::Table(toml::toml! { path = "support" });
            }
            // Features a member adds are on top of the workspace's.
            let extra =
                value.get("features").and_then(toml::Value::as_array).cloned().unwrap_or_default();
            if !extra.is_empty() {
                let mut table = match inherited {
                    toml::Value::String(version) => {
                        let mut table = toml::Table::new();
                        table.insert("version".into(), toml::Value::String(version));
                        table
                    }
                    toml::Value::Table(table) => table,
                    _ => bail!("dependency {name} has an unexpected form"),
                };
                let features = table.entry("features").or_insert(toml::Value::Array(Vec::new()));
                if let Some(features) = features.as_array_mut() {
                    features.extend(extra);
                }
                inherited = toml::Value::Table(table);
            }
            *value = inherited;
        }
    }
    if let Some(lints) = shared("lints") {
        member.insert("lints".into(), toml::Value::Table(lints));
    }
    member.remove("features");
    if root {
        if let Some(package) = member.get_mut("package").and_then(toml::Value::as_table_mut) {
            package.insert(
                "description".into(),
                "The workbook's exercises: starters to complete, and their tests.".into(),
            );
        }
        // The workspace's dev profile, so the pack builds like the book's
        // listings (and, in `cargo xtask test`, reuses their artifacts).
        if let Some(dev) = workspace.get("profile").and_then(|p| p.get("dev")) {
            let mut profile = toml::Table::new();
            profile.insert("dev".into(), dev.clone());
            member.insert("profile".into(), toml::Value::Table(profile));
        }
        member.insert(
            "workspace".into(),
            toml::Value::Table(toml::toml! { members = [".", "support"] }),
        );
    }
    Ok(toml::to_string_pretty(&member)?)
}

fn is_inherited(value: &toml::Value) -> bool {
    value.get("workspace").and_then(toml::Value::as_bool) == Some(true)
}

fn read_toml(path: &Path) -> Result<toml::Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::create_dir_all(path.parent().context("a file has a folder")?)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

const README: &str = "\
# Exercises: the student pack

The exercises of *How Programs Wait*, one folder each under `src/chNN/`:
`starter.rs` is yours to complete (replace each `todo!()`), and `tests.rs`
says what done means. The page of each chapter explains the task.

```console
cargo test                       # every exercise: they all fail until you solve them
cargo test -- count_the_blocks   # one exercise
```

If this pack came with a `vendor/` folder, every dependency is in it and the
pack builds with no network at all (`cargo test --offline`).
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_points_at_the_starters_only() {
        let lib = "pub mod ch01 {\n    #[cfg_attr(feature = \"starters\", path = \"wait/starter.rs\")]\n    #[cfg_attr(not(feature = \"starters\"), path = \"wait/solution.rs\")]\n    pub mod wait;\n}\n";
        assert_eq!(
            starters_only(lib),
            "pub mod ch01 {\n    #[path = \"wait/starter.rs\"]\n    pub mod wait;\n}\n"
        );
    }

    #[test]
    fn inherited_fields_and_dependencies_are_spelled_out() {
        let workspace: toml::Table = toml::from_str(
            "[workspace.package]\nedition = \"2024\"\n[workspace.dependencies]\nmio = { version = \"1\", features = [\"net\"] }\nsupport = { path = \"support\" }\nlibc = \"0.2\"\n[workspace.lints.rust]\nunsafe_op_in_unsafe_fn = \"deny\"\n[profile.dev]\nopt-level = 3\n",
        )
        .unwrap();
        let member: toml::Table = toml::from_str(
            "[package]\nname = \"exercises\"\nedition.workspace = true\n[features]\nstarters = []\n[dependencies]\nmio = { workspace = true, features = [\"os-poll\"] }\nlibc.workspace = true\nsupport.workspace = true\n[dev-dependencies]\nlibc = { workspace = true, features = [\"extra_traits\"] }\n[lints]\nworkspace = true\n",
        )
        .unwrap();
        let text = standalone(&member, &workspace, true).unwrap();
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["package"]["edition"].as_str(), Some("2024"));
        assert_eq!(parsed["dependencies"]["libc"].as_str(), Some("0.2"));
        assert_eq!(parsed["dev-dependencies"]["libc"]["version"].as_str(), Some("0.2"));
        assert_eq!(parsed["dev-dependencies"]["libc"]["features"].as_array().unwrap().len(), 1);
        assert_eq!(parsed["profile"]["dev"]["opt-level"].as_integer(), Some(3));
        assert_eq!(parsed["dependencies"]["mio"]["features"].as_array().unwrap().len(), 2);
        assert_eq!(parsed["dependencies"]["support"]["path"].as_str(), Some("support"));
        assert_eq!(parsed["lints"]["rust"]["unsafe_op_in_unsafe_fn"].as_str(), Some("deny"));
        assert!(parsed.get("features").is_none());
        assert!(parsed.get("workspace").is_some());
    }
}
