//! Two ways from async tasks to a SQLite connection, which is `Send` but not
//! `Sync`: an actor thread that owns one connection, and a pool of connections
//! lent to tokio's blocking threads; and the tasks that send either their
//! queries. `sqlite_actor` reads through both, `sqlite_writes` writes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{ThreadId, current};

use rusqlite::Connection;

// ANCHOR: actor
/// What a task asks of a connection: a closure that queries it and answers a `T`.
pub trait Ask<T>: FnOnce(&Connection) -> T + Send + 'static {}
impl<T, F: FnOnce(&Connection) -> T + Send + 'static> Ask<T> for F {}

/// A question on its way to the thread that owns the connection.
type Job = Box<dyn FnOnce(&Connection) + Send>;

/// One connection, owned by one thread for its whole life, like Django's
/// `sync_to_async(thread_sensitive=True)`. Tasks send it closures.
#[derive(Clone)]
pub struct Actor(mpsc::Sender<Job>);

impl Actor {
    /// Starts the thread that opens the connection and owns it.
    pub fn open(path: PathBuf) -> (Actor, std::thread::JoinHandle<()>) {
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
    pub async fn call<T: Send + 'static>(&self, query: impl Ask<T>) -> T {
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
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// An empty pool: it opens a connection when a call finds none idle.
    pub fn new(path: PathBuf) -> Arc<Pool> {
        Arc::new(Pool { path, idle: Mutex::default() })
    }

    /// Runs `query` on a blocking thread, with an idle connection, or a new one.
    pub async fn call<T: Send + 'static>(self: &Arc<Self>, query: impl Ask<T>) -> T {
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
pub enum Via {
    Actor(Actor),
    Pool(Arc<Pool>),
}

/// A query run with the number of the request; returns its answer.
pub type Query = fn(&Connection, u64) -> rusqlite::Result<f64>;

/// `total` requests from `tasks` concurrent tasks, each task taking every
/// `tasks`-th; returns every answer, with the thread that ran its query.
pub async fn load(via: Via, query: Query, total: u64, tasks: u64) -> Vec<(f64, ThreadId)> {
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

// ANCHOR: open
/// Opens the file in WAL mode: readers never wait for the writer; writers
/// still go one at a time, and wait up to rusqlite's default 5 s for their turn.
pub fn open(path: &Path) -> Connection {
    let connection = Connection::open(path).expect("open the database");
    connection.pragma_update(None, "journal_mode", "WAL").expect("WAL");
    connection.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    connection
}
// ANCHOR_END: open
