//! Through an actor or through a pool of connections, SQLite writes one transaction at a time.
//!
//!     cargo run --release -p ch07 --bin sqlite_writes -- --writes 2000 --tasks 8

use std::collections::HashSet;
use std::process::ExitCode;

use ch07::sqlite::{Actor, Pool, Via, load, open};
use rusqlite::{Connection, params};
use support::report::{Table, figure, verdict};
use support::timing::summarize;

/// Rounds of writes through each way.
const ROUNDS: u64 = 3;

/// Write to a SQLite file from many tasks, through an actor and through a pool.
#[derive(clap::Parser)]
pub struct Args {
    /// How many single-row inserts in all, each its own transaction.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    writes: u64,
    /// How many tasks send queries at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    tasks: u64,
}

// ANCHOR: trade
fn record_trade(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let sql = "INSERT INTO trades (symbol, shares, price) VALUES (?1, ?2, 101.5)";
    let trade = params![format!("SYM{}", i % 100), (i % 50 + 1) as i64];
    Ok(connection.prepare_cached(sql)?.execute(trade)? as f64) // 1 row inserted
}
// ANCHOR_END: trade

pub fn run(args: Args) -> ExitCode {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("trades.db");
    let setup = open(&path);
    let schema =
        "CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, shares INTEGER, price REAL)";
    setup.execute(schema, []).expect("create the table");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (actor, owner) = Actor::open(path.clone());
    let vias = [("actor", Via::Actor(actor)), ("pool", Via::Pool(Pool::new(path)))];
    // Three rounds, the two ways taking turns, so that a cold start or a busy moment of the
    // machine lands on both; the table shows each way's median.
    let (mut rates, mut threads) = ([vec![], vec![]], [HashSet::new(), HashSet::new()]);
    for _round in 0..ROUNDS {
        for (i, (_, via)) in vias.iter().enumerate() {
            let (answers, took) = support::timing::time(|| {
                runtime.block_on(load(via.clone(), record_trade, args.writes, args.tasks))
            });
            rates[i].push(args.writes as f64 / took.as_secs_f64());
            threads[i].extend(answers.into_iter().map(|(_, thread)| thread));
        }
    }
    drop(vias); // The actor's last sender: its thread ends.
    owner.join().expect("the owner thread ends");
    let mut table = Table::new(["through", "writes/s", "threads"]);
    let [(actor_per_s, actor_threads), (pool_per_s, pool_threads)] = [0, 1].map(|i| {
        let by = ["actor", "pool"][i];
        let per_s = summarize(&rates[i]).median;
        let per_s = figure(&format!("writes_{by}_per_s"), per_s, "queries/s");
        let threads = figure(&format!("writes_{by}_threads"), threads[i].len() as f64, "");
        table.cells(&format!("{by}|{per_s:#.0}|{threads}"));
        (per_s.value, threads.value)
    });
    table.print();
    let over = figure("writes_pool_over_actor", pool_per_s / actor_per_s, "x");
    let trades: i64 = setup.query_row("SELECT COUNT(*) FROM trades", [], |row| row.get(0)).unwrap();
    // On one core the two come out about even (0.7x to 1.1x in 25 runs): the bound allows for noise.
    verdict(
        "the pool writes no faster than the actor, and records every trade",
        over.value < 1.3
            && trades as u64 == 2 * ROUNDS * args.writes
            && actor_threads == 1.0
            && pool_threads >= 1.0,
        &format!(
            "pool / actor {over:.1}; {trades} trades recorded; {actor_threads} thread for the actor"
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
