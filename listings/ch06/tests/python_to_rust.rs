//! Every Rust path that the appendix "From Python to Rust" names is imported
//! here, so it compiles against the locked crate versions; and the test
//! checks that the page names exactly these paths, so neither can drift.
#![allow(unused_imports)]

use corosensei::Coroutine;
use futures::StreamExt;
use futures::future::join_all;
use futures::stream::FuturesUnordered;
use rayon::ThreadPool;
use std::process::Command;
use std::sync::mpsc;
use std::thread::scope;
use std::thread::spawn;
use tokio::join;
use tokio::main;
use tokio::runtime::Handle;
use tokio::runtime::Runtime;
use tokio::sync::Mutex;
use tokio::sync::MutexGuard;
use tokio::sync::Notify;
use tokio::sync::Semaphore;
use tokio::sync::mpsc as tokio_mpsc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::task::JoinSet;
use tokio::task::spawn_blocking;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

const PAGE: &str = include_str!("../../../src/python-to-rust.md");

/// The paths in the Rust column of the page's table: `a::b` spans.
fn named_on_the_page() -> std::collections::BTreeSet<String> {
    let rows = PAGE.lines().filter(|line| line.starts_with("| ") && !line.starts_with("| Python"));
    let rust_column = rows.filter_map(|row| row.split(" | ").nth(1).map(str::to_string));
    let spans: Vec<String> = rust_column
        .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>())
        .collect();
    spans.into_iter().filter(|span| span.contains("::") && !span.contains(' ')).collect()
}

/// The paths this file imports.
fn imported_here() -> std::collections::BTreeSet<String> {
    let source = include_str!("python_to_rust.rs");
    let uses = source.lines().filter_map(|line| line.strip_prefix("use ")?.strip_suffix(';'));
    // `use a::b as c;` imports `a::b` under another name: the path is `a::b`.
    uses.map(|path| path.split(" as ").next().unwrap_or(path).to_string()).collect()
}

#[test]
fn the_appendix_names_exactly_the_paths_imported_here() {
    let mut named = named_on_the_page();
    // `tokio::spawn` and `std::thread::spawn` share a last segment, so one
    // of them cannot be a plain `use`; it is checked below instead.
    assert!(named.remove("tokio::spawn"), "the page names tokio::spawn");
    assert_eq!(named, imported_here(), "the page's table and this file's imports differ");
}

#[test]
fn tokio_spawn_is_there_too() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let answer = runtime.block_on(async { tokio::spawn(async { 42 }).await.unwrap() });
    assert_eq!(answer, 42);
}
