//! An actor lends one thread's connection to many tasks; a pool reads in parallel, writes in turn.
//!
//!     cargo run --release -p ch07 --bin sqlite_actor -- --reads 20000 --writes 2000 --tasks 8

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use rusqlite::{Connection, params};
use support::report::{Table, figure, verdict};

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

type Job = Box<dyn FnOnce(&Connection) + Send>;

// ANCHOR: actor
/// One connection, owned by one thread for its whole life, like Django's
/// `sync_to_async(thread_sensitive=True)`. Tasks send it closures.
#[derive(Clone)]
struct Actor {
    jobs: mpsc::Sender<Job>,
}

impl Actor {
    fn open(path: PathBuf) -> (Actor, std::thread::JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel::<Job>();
        let owner = std::thread::spawn(move || {
            let connection = open(&path);
            for job in queue {
                job(&connection); // Ends when every Actor (every sender) is dropped.
            }
        });
        (Actor { jobs }, owner)
    }

    async fn call<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> T {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Box::new(move |connection: &Connection| drop(answer.send(query(connection))));
        self.jobs.send(job).expect("the owner thread is alive");
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
    async fn call<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> T {
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

/// Opens the file in WAL mode: readers never wait for the writer; writers
/// still go one at a time, and wait up to rusqlite's default 5 s for their turn.
fn open(path: &Path) -> Connection {
    let connection = Connection::open(path).expect("open the database");
    connection.pragma_update(None, "journal_mode", "WAL").expect("WAL");
    connection.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    connection
}

fn read_quote(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let mut statement =
        connection.prepare_cached("SELECT price FROM quotes WHERE symbol = ?1 AND day = ?2")?;
    statement
        .query_row(params![format!("SYM{}", i % 100), ((i * 7) % 250) as i64], |row| row.get(0))
}

fn scan_prices(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let mut statement =
        connection.prepare_cached("SELECT SUM(price) FROM quotes WHERE day % ?1 = 0")?;
    statement.query_row(params![(i % 5 + 1) as i64], |row| row.get(0))
}

fn record_trade(connection: &Connection, i: u64) -> rusqlite::Result<f64> {
    let sql = "INSERT INTO trades (symbol, shares, price) VALUES (?1, ?2, 101.5)";
    let trade = params![format!("SYM{}", i % 100), (i % 50 + 1) as i64];
    Ok(connection.prepare_cached(sql)?.execute(trade)? as f64) // 1 row inserted
}

/// A query run with the number of the request; returns its answer.
type Query = fn(&Connection, u64) -> rusqlite::Result<f64>;

#[derive(Clone)]
enum Via {
    Actor(Actor),
    Pool(Arc<Pool>),
}

/// `total` queries from `tasks` concurrent tasks; returns the sum of the
/// answers, the queries per second, and how many threads ran them.
async fn load(via: Via, query: Query, total: u64, tasks: u64) -> (f64, f64, usize) {
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let via = via.clone();
        workers.spawn(async move {
            let mut answers = Vec::new();
            for i in (task..total).step_by(tasks as usize) {
                // Each answer with the thread that ran its query.
                let asked = move |c: &_| (query(c, i).expect("query"), std::thread::current().id());
                answers.push(match &via {
                    Via::Actor(actor) => actor.call(asked).await,
                    Via::Pool(pool) => pool.call(asked).await,
                });
            }
            answers
        });
    }
    let answers: Vec<_> = workers.join_all().await.into_iter().flatten().collect();
    let threads: HashSet<_> = answers.iter().map(|answer| answer.1).collect();
    let sum = answers.iter().map(|answer| answer.0).sum();
    (sum, total as f64 / started.elapsed().as_secs_f64(), threads.len())
}

pub fn run(args: Args) -> ExitCode {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("quotes.db");
    let setup = open(&path);
    // 25,000 quotes (100 symbols x 250 days), and an empty table of trades.
    let schema =
        "CREATE TABLE quotes (symbol TEXT, day INTEGER, price REAL, PRIMARY KEY (symbol, day));
        CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, shares INTEGER, price REAL);
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 24999)
        INSERT INTO quotes SELECT 'SYM' || (i / 250), i % 250,
            100.0 + ((i / 250) * 31 + (i % 250) * 17) % 100 / 4.0 FROM n;";
    setup.execute_batch(schema).expect("create the tables");

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (actor, owner) = Actor::open(path.clone());
    let pool = Arc::new(Pool { path: path.clone(), idle: Mutex::new(Vec::new()) });
    let mut table = Table::new(["queries", "through", "queries/s", "threads", "sum of answers"]);
    let mut rows = Vec::new(); // (sum, queries/s, threads) for reads, scans, writes: actor, pool
    let workloads: [(&str, Query, u64); 3] = [
        ("reads", read_quote, args.reads),
        ("scans", scan_prices, args.scans),
        ("writes", record_trade, args.writes),
    ];
    for (kind, query, total) in workloads {
        for (label, via) in
            [("actor", Via::Actor(actor.clone())), ("pool", Via::Pool(pool.clone()))]
        {
            let (sum, per_s, threads) = runtime.block_on(load(via, query, total, args.tasks));
            let per_s = figure(&format!("{kind}_{label}_per_s"), per_s, "queries/s").value;
            let threads = figure(&format!("{kind}_{label}_threads"), threads as f64, "").value;
            let cells = [format!("{per_s:.0}"), threads.to_string(), format!("{sum:.1}")];
            table.row([kind.to_string(), label.to_string()].into_iter().chain(cells));
            rows.push((sum, per_s, threads));
        }
    }
    table.print();
    drop(actor);
    owner.join().expect("the owner thread ends");
    let trades: i64 = setup.query_row("SELECT COUNT(*) FROM trades", [], |row| row.get(0)).unwrap();
    drop(runtime);

    let over = |kind: usize, name| figure(name, rows[2 * kind + 1].1 / rows[2 * kind].1, "x");
    let (reads, scans) = (over(0, "reads_pool_over_actor"), over(1, "scans_pool_over_actor"));
    let writes = over(2, "writes_pool_over_actor");
    println!(
        "pool / actor: {reads:.1} for point reads, {scans:.1} for scans, {writes:.1} for writes; {trades} trades recorded"
    );
    let ((actor_threads, pool_threads), (scans_actor, scans_pool)) =
        ((rows[0].2, rows[1].2), (rows[2].0, rows[3].0));
    let same = rows[0].0 == rows[1].0 && (scans_actor - scans_pool).abs() < 1e-6 * scans_actor;
    let holds =
        same && trades as u64 == 2 * args.writes && actor_threads == 1.0 && pool_threads >= 1.0;
    verdict(
        "the actor runs every query on its one thread and gives the same answers as the pool",
        holds,
        &format!(
            "{actor_threads} thread for the actor, {pool_threads} for the pool; {trades} trades recorded"
        ),
    )
}

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}
