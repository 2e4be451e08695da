//! The stock mdBook path: `book.toml` as committed, built the way `mdbook
//! build` builds it, with the `workbook` preprocessor run as a command, a
//! subprocess spoken to over mdBook's JSON protocol (`supports html`, then
//! the book on standard input and back on standard output). `cargo xtask
//! book` runs the same preprocessor in its own process instead.

use std::path::Path;

use mdbook_driver::MDBook;
use mdbook_driver::config::Config;

#[test]
fn mdbook_builds_the_book_through_the_preprocessor_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut config = Config::from_disk(root.join("book.toml")).expect("read book.toml");
    let command = config.get::<String>("preprocessor.workbook.command").expect("a command");
    assert_eq!(command.as_deref(), Some("cargo xtask preprocess"), "the README says so");
    // This test runs inside `cargo test`, which holds the target folder's
    // lock, so `cargo xtask` would wait for it forever: the same program is
    // named by its path instead.
    let xtask = format!("{} preprocess", env!("CARGO_BIN_EXE_xtask"));
    config.set("preprocessor.workbook.command", xtask).expect("set the command");
    let out = tempfile::tempdir().expect("a scratch folder");
    config.build.build_dir = out.path().to_path_buf();
    let book = MDBook::load_with_config(&root, config).expect("load the book");
    book.build().expect("the stock build, preprocessor as a subprocess");

    let site = book.build_dir_for("html");
    let page = |name: &str| std::fs::read_to_string(site.join(name)).expect("a rendered page");
    for name in ["ch01.html", "ch06.html", "ch09.html", "print.html"] {
        let html = page(name);
        assert!(!html.contains("{{#"), "{name}: a directive was left unexpanded");
        assert!(html.contains("Measured output of"), "{name}: no measured output");
    }
    assert!(page("ch01.html").contains("class=\"quiz"), "ch01.html: no quiz");
}
