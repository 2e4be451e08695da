//! The chapter's event loop, in one file: a ready queue, wakers, a timer heap
//! and an epoll reactor. The listing `mini_loop` runs 10,000 sleeping tasks on
//! it, `runtime_table` sets it beside tokio and smol, and the unit tests in
//! `mini_loop_tests.rs` check what it promises.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::future::{Future, poll_fn};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

// ANCHOR: state
/// A spawned task: a future that returns nothing, boxed so that all fit one Vec.
type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Everything one loop owns. Only the loop's thread touches it, except
/// `ready`, which a waker may push onto from any thread.
struct Loop {
    tasks: RefCell<Vec<Option<Task>>>,    // id -> its future
    wakers: RefCell<Vec<Arc<TaskWaker>>>, // id -> its waker
    ready: Arc<ReadyQueue>,
    timers: RefCell<BinaryHeap<Reverse<Timer>>>, // soonest deadline on top
    poll: RefCell<mio::Poll>,                    // the reactor: epoll on Linux
    io_waiters: RefCell<Vec<Vec<Waker>>>,        // mio token -> tasks waiting on it
    stats: Cell<Stats>,
    observer: RefCell<Option<Observer>>, // measuring: sees each turn, for the figure
}

/// The ids of the tasks to poll next, and how to interrupt the loop's wait.
struct ReadyQueue {
    ids: Mutex<VecDeque<usize>>,
    parked: AtomicBool, // the loop is (about to be) waiting in epoll
    unpark: mio::Waker, // an eventfd registered with epoll
}

/// A task's waker: waking it puts the task's id on the ready queue, once.
struct TaskWaker {
    id: usize,
    queued: AtomicBool,
    ready: Arc<ReadyQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        // A task woken twice before it runs is queued, and so polled, once.
        if !self.queued.swap(true, SeqCst) {
            self.ready.ids.lock().unwrap().push_back(self.id);
            if self.ready.parked.load(SeqCst) {
                self.ready.unpark.wake().expect("interrupt epoll_wait");
            }
        }
    }
}

/// A sleeping task: wake it at `deadline`. `seq` breaks ties in spawn order.
struct Timer {
    deadline: Instant,
    seq: u64,
    waker: Waker,
}
// ANCHOR_END: state

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Timer {}

/// What the loop did: task polls, waits in epoll, spawned tasks not finished.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub polls: u64,
    pub parks: u64,
    pub live_tasks: u64,
}

/// One turn of the loop, as an observer sees it, just before the loop waits.
#[derive(Clone, Copy, Debug)]
pub struct Tick {
    /// When the turn's timers were checked.
    pub at: Instant,
    /// Task polls in this turn: the ready tasks it ran, `main` included.
    pub ran: u64,
    /// Tasks left waiting: timers not yet due, plus wakers left on sockets.
    pub parked: usize,
}

/// What `observe` keeps: called once per turn, with the polls seen so far.
type Observer = (Box<dyn FnMut(Tick)>, u64);

const MAIN: usize = 0; // the id of the future given to `block_on`
const UNPARK: mio::Token = mio::Token(usize::MAX);

thread_local! {
    static CURRENT: RefCell<Option<Rc<Loop>>> = const { RefCell::new(None) };
}

/// The loop running on this thread: spawn, sleep and sockets need one.
fn with_loop<R>(f: impl FnOnce(&Loop) -> R) -> R {
    let current = CURRENT.with(|current| current.borrow().clone());
    f(&current.expect("mini_loop: call this inside block_on"))
}

impl Loop {
    /// Gives the next task its waker, and queues it to run.
    fn add_task(&self, future: Option<Task>) {
        let (id, ready) = (self.wakers.borrow().len(), Arc::clone(&self.ready));
        let waker = Arc::new(TaskWaker { id, queued: AtomicBool::new(false), ready });
        self.wakers.borrow_mut().push(Arc::clone(&waker));
        self.tasks.borrow_mut().push(future);
        waker.wake();
    }
    fn count(&self, change: impl FnOnce(&mut Stats)) {
        let mut stats = self.stats.get();
        change(&mut stats);
        self.stats.set(stats);
    }
    /// Tells the observer, if there is one, what this turn did; else nothing.
    fn end_turn(&self, at: Instant, sleeping: usize) {
        let mut observer = self.observer.borrow_mut();
        let Some((observe, polls_seen)) = observer.as_mut() else {
            return;
        };
        let polls = self.stats.get().polls;
        let ran = polls - std::mem::replace(polls_seen, polls);
        let on_sockets: usize = self.io_waiters.borrow().iter().map(Vec::len).sum();
        observe(Tick { at, ran, parked: sleeping + on_sockets });
    }
}

// ANCHOR: run
/// Runs `main` to completion on a new loop on this thread, with every task it
/// spawns; tasks still unfinished when `main` returns are dropped.
pub fn block_on<F: Future>(main: F) -> F::Output {
    let poll = mio::Poll::new().expect("create an epoll instance");
    let unpark = mio::Waker::new(poll.registry(), UNPARK).expect("create an eventfd");
    let (ids, parked) = (Mutex::default(), AtomicBool::new(false));
    let lp = Rc::new(Loop {
        tasks: RefCell::default(),
        wakers: RefCell::default(),
        ready: Arc::new(ReadyQueue { ids, parked, unpark }),
        timers: RefCell::default(),
        poll: RefCell::new(poll),
        io_waiters: RefCell::default(),
        stats: Cell::default(),
        observer: RefCell::default(),
    });
    CURRENT.with(|current| assert!(current.replace(Some(Rc::clone(&lp))).is_none()));
    let _leave = Leave; // Clears CURRENT on every way out, a panic included.
    lp.add_task(None); // Task 0 is `main`, which lives on this stack, not in `tasks`.
    let mut main = pin!(main);
    let mut events = mio::Events::with_capacity(1024);
    loop {
        // 1. Poll every ready task once: each runs until it awaits or finishes.
        loop {
            let next = lp.ready.ids.lock().unwrap().pop_front(); // The lock ends here.
            let Some(id) = next else { break };
            let task_waker = Arc::clone(&lp.wakers.borrow()[id]);
            task_waker.queued.store(false, SeqCst); // From here on, a wake queues it again.
            let waker = Waker::from(task_waker);
            let mut cx = Context::from_waker(&waker);
            lp.count(|stats| stats.polls += 1);
            if id == MAIN {
                if let Poll::Ready(output) = main.as_mut().poll(&mut cx) {
                    return output;
                }
                continue;
            }
            // The task is taken out while it runs, so that it may spawn others.
            let Some(mut task) = lp.tasks.borrow_mut()[id].take() else {
                continue; // It has finished already: a late wake is harmless.
            };
            match task.as_mut().poll(&mut cx) {
                Poll::Pending => lp.tasks.borrow_mut()[id] = Some(task),
                Poll::Ready(()) => lp.count(|stats| stats.live_tasks -= 1),
            }
        }
        // 2. Wake every task whose deadline has passed.
        let (now, mut timers) = (Instant::now(), lp.timers.borrow_mut());
        while timers.peek().is_some_and(|Reverse(timer)| timer.deadline <= now) {
            timers.pop().unwrap().0.waker.wake();
        }
        let next_deadline = timers.peek().map(|Reverse(timer)| timer.deadline - now);
        let sleeping = timers.len();
        drop(timers);
        lp.end_turn(now, sleeping); // measuring: tells an observer, if any
        // 3. Nothing to run: wait in epoll for I/O, a wake from another thread,
        //    or the next deadline, whichever comes first.
        lp.ready.parked.store(true, SeqCst);
        if lp.ready.ids.lock().unwrap().is_empty() {
            lp.count(|stats| stats.parks += 1);
            let waited = lp.poll.borrow_mut().poll(&mut events, next_deadline);
            if let Err(error) = waited
                && error.kind() != ErrorKind::Interrupted
            {
                panic!("epoll_wait failed: {error}");
            }
        }
        lp.ready.parked.store(false, SeqCst);
        for event in events.iter().filter(|event| event.token() != UNPARK) {
            let waiters = std::mem::take(&mut lp.io_waiters.borrow_mut()[event.token().0]);
            waiters.into_iter().for_each(Waker::wake);
        }
    }
}
// ANCHOR_END: run

struct Leave;
impl Drop for Leave {
    fn drop(&mut self) {
        CURRENT.with(|current| current.take());
    }
}

/// What the loop did so far; call it inside `block_on`.
pub fn stats() -> Stats {
    with_loop(|lp| lp.stats.get())
}

/// From the end of the current turn on, calls `observer` once per turn of the
/// running loop, before it waits; call it inside `block_on`. It only watches:
/// it should not spawn or sleep, and calling `observe` from it panics. Without
/// an observer, a turn costs one look at an empty `Option`.
pub fn observe(observer: impl FnMut(Tick) + 'static) {
    with_loop(|lp| {
        let polls_seen = 0; // The first turn reports every poll since the start.
        *lp.observer.borrow_mut() = Some((Box::new(observer), polls_seen));
    });
}

// ANCHOR: spawn
/// Starts `future` as a task of the running loop; await what it returns for its output.
pub fn spawn<T: 'static>(future: impl Future<Output = T> + 'static) -> impl Future<Output = T> {
    let slot = Rc::new(RefCell::new((None, None::<Waker>))); // (output, who awaits it)
    let task_slot = Rc::clone(&slot);
    with_loop(|lp| {
        lp.add_task(Some(Box::pin(async move {
            let output = future.await;
            let waiter = task_slot.borrow_mut().1.take();
            task_slot.borrow_mut().0 = Some(output);
            waiter.into_iter().for_each(Waker::wake);
        })));
        lp.count(|stats| stats.live_tasks += 1);
    });
    poll_fn(move |cx| {
        let mut slot = slot.borrow_mut();
        match slot.0.take() {
            Some(output) => Poll::Ready(output),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
}

/// Completes `duration` after it is called, as tokio's `sleep` and smol's
/// `Timer::after` do: a task spawned late in a crowd does not sleep late too.
pub fn sleep(duration: Duration) -> impl Future<Output = ()> {
    let (deadline, mut registered) = (Instant::now() + duration, false);
    poll_fn(move |cx| {
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        if !std::mem::replace(&mut registered, true) {
            // The timer heap holds the waker; the loop wakes it at the deadline.
            let waker = cx.waker().clone();
            with_loop(|lp| {
                let seq = lp.stats.get().polls; // Ties go to the task polled first.
                lp.timers.borrow_mut().push(Reverse(Timer { deadline, seq, waker }));
            });
        }
        Poll::Pending
    })
}
// ANCHOR_END: spawn

// ANCHOR: io
/// A non-blocking TCP stream registered with the loop's reactor.
#[allow(dead_code)] // This listing's `run` only sleeps; the unit tests use sockets.
pub struct TcpStream {
    io: mio::net::TcpStream,
    token: usize,
}

#[allow(dead_code)]
impl TcpStream {
    /// Connects to `addr`; the task waits for the handshake, the thread does not.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let mut io = mio::net::TcpStream::connect(addr)?;
        let token = with_loop(|lp| {
            let token = lp.io_waiters.borrow().len();
            lp.io_waiters.borrow_mut().push(Vec::new());
            let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
            let registered =
                lp.poll.borrow().registry().register(&mut io, mio::Token(token), interest);
            registered.map(|()| token)
        })?;
        let stream = TcpStream { io, token };
        // Writable means the handshake is over: connected, or failed.
        poll_fn(|cx| {
            stream.poll_io(cx, |io| match (io.take_error()?, io.peer_addr()) {
                (Some(error), _) => Err(error),
                (None, Err(e)) if e.kind() == ErrorKind::NotConnected => {
                    Err(ErrorKind::WouldBlock.into())
                }
                (None, connected) => connected.map(drop),
            })
        })
        .await?;
        Ok(stream)
    }

    /// Reads some bytes; 0 means the peer closed its side.
    pub async fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_io(cx, |mut io| io.read(buffer))).await
    }

    /// Writes all of `bytes`.
    pub async fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let written = poll_fn(|cx| self.poll_io(cx, |mut io| io.write(bytes))).await?;
            bytes = &bytes[written..];
        }
        Ok(())
    }

    /// Tries `op`; if the socket is not ready, parks the task on its token.
    /// Readiness is reported once per change, so the task always tries first.
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mio::net::TcpStream) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        match op(&self.io) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                with_loop(|lp| lp.io_waiters.borrow_mut()[self.token].push(cx.waker().clone()));
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }
}
// ANCHOR_END: io
