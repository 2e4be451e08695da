//! An actor lends one thread's connection to many tasks; a pool reads in parallel.
//!
//!     cargo run --release -p ch07 --bin sqlite_actor -- --reads 20000 --scans 200 --tasks 8

use std::process::ExitCode;

use ch07::sqlite::{Actor, Pool, Query, Via, load, open};
use rusqlite::{Connection, params};
use support::report::{Table, figure, verdict};

/// Read a SQLite file from many tasks, through an actor and through a pool.
#[derive(clap::Parser)]
pub struct Args {
    /// How many point reads in all.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    reads: u64,
    /// How many full-table scans in all (each sums 25,000 prices).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    scans: u64,
    /// How many tasks send queries at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    tasks: u64,
}

// ANCHOR: queries
fn read_quote(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let sql = "SELECT price FROM quotes WHERE symbol = ?1 AND day = ?2";
    let key = params![format!("SYM{}", i % 100), ((i * 7) % 250) as i64];
    connection.prepare_cached(sql)?.query_row(key, |row| row.get(0))
}

fn scan_prices(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let sql = "SELECT SUM(price) FROM quotes WHERE day % ?1 = 0";
    connection.prepare_cached(sql)?.query_row(params![(i % 5 + 1) as i64], |row| row.get(0))
}
// ANCHOR_END: queries

/// 25,000 quotes: 100 symbols x 250 days.
const SCHEMA: &str = "
    CREATE TABLE quotes (symbol TEXT, day INTEGER, price REAL, PRIMARY KEY (symbol, day));
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 24999)
    INSERT INTO quotes SELECT 'SYM' || (i / 250), i % 250,
        100.0 + ((i / 250) * 31 + (i % 250) * 17) % 100 / 4.0 FROM n;";

pub fn run(args: Args) -> ExitCode {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("quotes.db");
    open(&path).execute_batch(SCHEMA).expect("create the table");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (actor, owner) = Actor::open(path.clone());
    let vias = [("actor", Via::Actor(actor)), ("pool", Via::Pool(Pool::new(path)))];
    let mut table = Table::new(["queries", "through", "queries/s", "threads", "sum of answers"]);
    let workloads: [(_, Query, _); 2] =
        [("reads", read_quote, args.reads), ("scans", scan_prices, args.scans)];
    // Per workload, through the actor and through the pool: (queries/s, threads, sum of answers).
    let [(reads, r), (scans, s)] = workloads.map(|(kind, query, total)| {
        let [actor, pool] = vias.clone().map(|(by, via)| {
            let (answers, took) =
                support::timing::time(|| runtime.block_on(load(via, query, total, args.tasks)));
            let per_s = total as f64 / took.as_secs_f64();
            let per_s = figure(&format!("{kind}_{by}_per_s"), per_s, "queries/s");
            let threads: std::collections::HashSet<_> = answers.iter().map(|a| a.1).collect();
            let threads = figure(&format!("{kind}_{by}_threads"), threads.len() as f64, "");
            let sum: f64 = answers.iter().map(|answer| answer.0).sum();
            table.cells(&format!("{kind}|{by}|{per_s:#.0}|{threads}|{sum:.1}"));
            (per_s.value, threads.value, sum)
        });
        ([actor, pool], figure(&format!("{kind}_pool_over_actor"), pool.0 / actor.0, "x"))
    });
    table.print();
    println!("pool / actor: {r:.1} for point reads, {s:.1} for scans");
    drop(vias); // The last sender: the actor's thread ends.
    owner.join().expect("the owner thread ends");
    let same = reads[0].2 == reads[1].2 && (scans[0].2 - scans[1].2).abs() < 1e-6 * scans[0].2;
    let (actor_threads, pool_threads) = (reads[0].1, reads[1].1);
    verdict(
        "the actor runs every query on its one thread and gives the same answers as the pool",
        same && actor_threads == 1.0 && pool_threads >= 1.0,
        &format!("{actor_threads} thread for the actor, {pool_threads} for the pool"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
