//! A small workbook on disk for the xtask's own tests: one chapter, `ch99`,
//! with one listing, `waiting`, and a measured output that is fresh.

use std::collections::BTreeMap;
use std::path::Path;

use tempfile::TempDir;

use crate::fingerprint::fingerprint;
use crate::output::{Machine, Metric, Output, Series};
use crate::project::{Listing, Project};

pub const LISTING: &str = r#"//! Waiting takes time.
fn main() {
    // ANCHOR: wait
    let wait = std::time::Duration::from_millis(5);
        std::thread::sleep(wait);
    // ANCHOR_END: wait
}
"#;

const LOCK: &str = r#"version = 4

[[package]]
name = "ch99"
version = "0.1.0"
dependencies = ["support", "libc 0.2.1"]

[[package]]
name = "support"
version = "0.1.0"

[[package]]
name = "libc"
version = "0.2.1"

[[package]]
name = "libc"
version = "0.1.0"

[[package]]
name = "unrelated"
version = "1.0.0"
"#;

/// A fixture workbook and the project over it.
pub fn workbook() -> (TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    let project = Project { root: dir.path().to_path_buf() };
    let files = [
        (
            "listings/Cargo.toml",
            "[workspace]\nmembers = [\"ch99\", \"support\"]\nresolver = \"3\"\n\n[profile.release]\ndebug = false\n",
        ),
        ("listings/Cargo.lock", LOCK),
        ("listings/support/Cargo.toml", "[package]\nname = \"support\"\n"),
        ("listings/support/src/lib.rs", "//! Support.\n"),
        ("listings/ch99/Cargo.toml", "[package]\nname = \"ch99\"\n"),
        ("listings/ch99/src/main.rs", "fn main() {}\n"),
        ("listings/ch99/src/bin/waiting.rs", LISTING),
        ("listings/ch99/src/bin/other.rs", "fn main() {}\n"),
        (
            "listings/ch99/measure.toml",
            "title = \"the fixture\"\n\n[[listing]]\nname = \"waiting\"\ntitle = \"waiting takes time\"\nruns = 3\n\n\
             [[listing]]\nname = \"other\"\ntitle = \"another\"\n",
        ),
    ];
    for (path, text) in files {
        write(&project.root, path, text);
    }
    crate::tours::write(&project).unwrap();
    let listing = listing(&project, "ch99/waiting");
    let mut metrics = BTreeMap::new();
    metrics.insert(
        "wait".to_string(),
        Metric {
            unit: "ms".into(),
            median: 5.123,
            min: 5.0,
            max: 6.0,
            samples: vec![5.0, 5.123, 6.0],
        },
    );
    let output = Output {
        listing: listing.id(),
        command: "cargo run --release -p ch99 --bin waiting".into(),
        args: Vec::new(),
        runs: 3,
        fingerprint: fingerprint(&project, &listing).unwrap(),
        machine: Machine {
            cpu: "Test CPU".into(),
            cores: 2,
            os: "Test OS".into(),
            rustc: "rustc 1.0.0".into(),
            python: None,
            servers: Vec::new(),
        },
        measured_at: "2026-01-02T03:04:05Z".into(),
        stdout: vec!["waited 5.1 ms".into(), "claim holds: waiting takes time".into()],
        metrics,
        series: BTreeMap::from([(
            "wait_by_run".to_string(),
            Series {
                x_unit: "run".into(),
                y_unit: "ms".into(),
                points: vec![(1.0, 5.0), (2.0, 5.1), (3.0, 6.0)],
            },
        )]),
        verdict: None,
    };
    output.save(&project.output_path(&listing)).unwrap();
    (dir, project)
}

/// The fixture's listing with this id.
pub fn listing(project: &Project, id: &str) -> Listing {
    let listings = project.listings().unwrap();
    project.find(&listings, id).unwrap().clone()
}

/// Writes `text` at `path` below `root`, creating folders.
pub fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
