//! An actor lends one thread's connection to many tasks; a pool reads in parallel, writes in turn.
//!
//!     cargo run --release -p ch07 --bin sqlite_actor -- --reads 20000 --writes 2000 --tasks 8

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{ThreadId, current};

use rusqlite::{Connection, params};
use support::report::{Table, figure, verdict};
use support::timing::time;

/// Query a SQLite file from many tasks, through an actor and through a pool.
#[derive(clap::Parser)]
pub struct Args {
    /// How many point reads in all.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    reads: u64,
    /// How many full-table scans in all (each sums 25,000 prices).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    scans: u64,
    /// How many single-row inserts in all, each its own transaction.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    writes: u64,
    /// How many tasks send queries at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    tasks: u64,
}

// ANCHOR: actor
/// What a task asks of a connection: a closure that queries it and answers a `T`.
trait Ask<T>: FnOnce(&Connection) -> T + Send + 'static {}
impl<T, F: FnOnce(&Connection) -> T + Send + 'static> Ask<T> for F {}

/// A question on its way to the thread that owns the connection.
type Job = Box<dyn FnOnce(&Connection) + Send>;

/// One connection, owned by one thread for its whole life, like Django's
/// `sync_to_async(thread_sensitive=True)`. Tasks send it closures.
#[derive(Clone)]
struct Actor(mpsc::Sender<Job>);

impl Actor {
    /// Starts the thread that opens the connection and owns it.
    fn open(path: PathBuf) -> (Actor, std::thread::JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel::<Job>();
        let owner = std::thread::spawn(move || {
            let connection = open(&path);
            for job in queue {
                job(&connection); // Ends when every Actor (every sender) is dropped.
            }
        });
        (Actor(jobs), owner)
    }

    /// Sends `query` to the owner thread and awaits its answer.
    async fn call<T: Send + 'static>(&self, query: impl Ask<T>) -> T {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Box::new(move |connection: &Connection| drop(answer.send(query(connection))));
        self.0.send(job).expect("the owner thread is alive");
        answered.await.expect("the owner thread answers")
    }
}
// ANCHOR_END: actor

// ANCHOR: pool
/// Connections that tokio's blocking threads take turns with: a `Connection`
/// is `Send` (it may move to another thread) but not `Sync` (one thread at a
/// time), so each call takes one out of the pool and puts it back.
struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// Runs `query` on a blocking thread, with an idle connection, or a new one.
    async fn call<T: Send + 'static>(self: &Arc<Self>, query: impl Ask<T>) -> T {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let taken = pool.idle.lock().unwrap().pop();
            let connection = taken.unwrap_or_else(|| open(&pool.path));
            let result = query(&connection);
            pool.idle.lock().unwrap().push(connection);
            result
        })
        .await
        .expect("the query ends")
    }
}
// ANCHOR_END: pool

// ANCHOR: tasks
/// Either way to a connection, for the tasks to share.
#[derive(Clone)]
enum Via {
    Actor(Actor),
    Pool(Arc<Pool>),
}

/// `total` requests from `tasks` concurrent tasks, each task taking every
/// `tasks`-th; returns every answer, with the thread that ran its query.
async fn load(via: Via, query: Query, total: u64, tasks: u64) -> Vec<(f64, ThreadId)> {
    let mut workers = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let via = via.clone();
        workers.spawn(async move {
            let mut answers = Vec::new();
            for i in (task..total).step_by(tasks as usize) {
                let asked = move |c: &_| (query(c, i).expect("query"), current().id());
                answers.push(match &via {
                    Via::Actor(actor) => actor.call(asked).await,
                    Via::Pool(pool) => pool.call(asked).await,
                });
            }
            answers
        });
    }
    workers.join_all().await.concat()
}
// ANCHOR_END: tasks

// ANCHOR: queries
/// Opens the file in WAL mode: readers never wait for the writer; writers
/// still go one at a time, and wait up to rusqlite's default 5 s for their turn.
fn open(path: &Path) -> Connection {
    let connection = Connection::open(path).expect("open the database");
    connection.pragma_update(None, "journal_mode", "WAL").expect("WAL");
    connection.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    connection
}

/// A query run with the number of the request; returns its answer.
type Query = fn(&Connection, u64) -> rusqlite::Result<f64>;

fn read_quote(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let sql = "SELECT price FROM quotes WHERE symbol = ?1 AND day = ?2";
    let key = params![format!("SYM{}", i % 100), ((i * 7) % 250) as i64];
    connection.prepare_cached(sql)?.query_row(key, |row| row.get(0))
}

fn scan_prices(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let sql = "SELECT SUM(price) FROM quotes WHERE day % ?1 = 0";
    connection.prepare_cached(sql)?.query_row(params![(i % 5 + 1) as i64], |row| row.get(0))
}

fn record_trade(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let sql = "INSERT INTO trades (symbol, shares, price) VALUES (?1, ?2, 101.5)";
    let trade = params![format!("SYM{}", i % 100), (i % 50 + 1) as i64];
    Ok(connection.prepare_cached(sql)?.execute(trade)? as f64) // 1 row inserted
}
// ANCHOR_END: queries

/// 25,000 quotes (100 symbols x 250 days), and an empty table of trades.
const SCHEMA: &str = "
    CREATE TABLE quotes (symbol TEXT, day INTEGER, price REAL, PRIMARY KEY (symbol, day));
    CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, shares INTEGER, price REAL);
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 24999)
    INSERT INTO quotes SELECT 'SYM' || (i / 250), i % 250,
        100.0 + ((i / 250) * 31 + (i % 250) * 17) % 100 / 4.0 FROM n;";

pub fn run(args: Args) -> ExitCode {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("quotes.db");
    let setup = open(&path);
    setup.execute_batch(SCHEMA).expect("create the tables");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (actor, owner) = Actor::open(path.clone());
    let pool = Arc::new(Pool { path, idle: Mutex::default() });
    let vias = [("actor", Via::Actor(actor)), ("pool", Via::Pool(pool))];
    let mut table = Table::new(["queries", "through", "queries/s", "threads", "sum of answers"]);
    let workloads: [(_, Query, _); 3] = [
        ("reads", read_quote, args.reads),
        ("scans", scan_prices, args.scans),
        ("writes", record_trade, args.writes),
    ];
    // Per workload, through the actor and through the pool: (queries/s, threads, sum of answers).
    let [reads, scans, writes] = workloads.map(|(kind, query, total)| {
        vias.clone().map(|(by, via)| {
            let (answers, took) = time(|| runtime.block_on(load(via, query, total, args.tasks)));
            let per_s = total as f64 / took.as_secs_f64();
            let per_s = figure(&format!("{kind}_{by}_per_s"), per_s, "queries/s");
            let threads: HashSet<_> = answers.iter().map(|answer| answer.1).collect();
            let threads = figure(&format!("{kind}_{by}_threads"), threads.len() as f64, "");
            let sum: f64 = answers.iter().map(|answer| answer.0).sum();
            table.cells(&format!("{kind}|{by}|{per_s:#.0}|{threads}|{sum:.1}"));
            (per_s.value, threads.value, sum)
        })
    });
    table.print();
    drop(vias); // The last sender: the actor's thread ends.
    owner.join().expect("the owner thread ends");
    let trades: i64 = setup.query_row("SELECT COUNT(*) FROM trades", [], |row| row.get(0)).unwrap();
    let over = |[actor, pool]: [(f64, f64, f64); 2], kind: &str| {
        figure(&format!("{kind}_pool_over_actor"), pool.0 / actor.0, "x")
    };
    let (r, s, w) = (over(reads, "reads"), over(scans, "scans"), over(writes, "writes"));
    println!(
        "pool / actor: {r:.1} for point reads, {s:.1} for scans, {w:.1} for writes; {trades} trades recorded"
    );
    let same = reads[0].2 == reads[1].2 && (scans[0].2 - scans[1].2).abs() < 1e-6 * scans[0].2;
    let (actor_threads, pool_threads) = (reads[0].1, reads[1].1);
    verdict(
        "the actor runs every query on its one thread and gives the same answers as the pool",
        same && trades as u64 == 2 * args.writes && actor_threads == 1.0 && pool_threads >= 1.0,
        &format!(
            "{actor_threads} thread for the actor, {pool_threads} for the pool; {trades} trades recorded"
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
