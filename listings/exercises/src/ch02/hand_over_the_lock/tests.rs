use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use crate::ch02::hand_over_the_lock::InterpreterLock;

const INTERVAL: Duration = Duration::from_millis(2);

/// Runs `test` on its own thread and fails if it has not finished within
/// five seconds: a lock that never hands over must fail, not hang.
fn within(test: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let runner = thread::spawn(move || {
        test();
        done.send(()).unwrap();
    });
    if finished.recv_timeout(Duration::from_secs(5)).is_err() {
        match runner.is_finished() {
            true => std::panic::resume_unwind(runner.join().unwrap_err()),
            false => panic!("still waiting after 5 s: the lock was never handed over"),
        }
    }
}

/// Some CPU work between two checkpoints.
fn work() {
    std::hint::black_box((0..2_000u64).fold(1u64, |x, i| x.rotate_left(5) ^ i));
}

#[test]
fn checkpoint_keeps_the_lock_when_nobody_waits() {
    within(|| {
        let lock = InterpreterLock::new(INTERVAL);
        let mut interpreter = lock.acquire();
        for _ in 0..1_000 {
            assert!(!interpreter.checkpoint(), "handed the lock to nobody");
            work();
        }
    });
}

#[test]
fn checkpoint_hands_over_to_a_waiting_thread() {
    within(|| {
        let (lock, stop) = (InterpreterLock::new(INTERVAL), AtomicBool::new(false));
        thread::scope(|scope| {
            // The busy thread runs until the waiting one stops it, which the
            // waiting one can only do once it holds the lock.
            let busy = scope.spawn(|| {
                let mut interpreter = lock.acquire();
                let mut handed_over = 0;
                while !stop.load(SeqCst) {
                    handed_over += usize::from(interpreter.checkpoint());
                    work();
                }
                handed_over
            });
            thread::sleep(INTERVAL * 5);
            let interpreter = lock.acquire();
            stop.store(true, SeqCst);
            drop(interpreter);
            assert!(busy.join().unwrap() >= 1, "checkpoint never said it handed over");
        });
    });
}

#[test]
fn two_busy_threads_take_turns() {
    within(|| {
        // Each thread runs until both have had twenty turns. A thread that
        // could take the lock straight back after handing it over would win
        // that race most of the time, and have two turns in a row.
        let lock = InterpreterLock::new(INTERVAL);
        let (order, turns) = (Mutex::new(Vec::new()), [AtomicUsize::new(1), AtomicUsize::new(1)]);
        let both_done = || turns.iter().all(|t| t.load(SeqCst) >= 20);
        thread::scope(|scope| {
            for (me, name) in ['a', 'b'].into_iter().enumerate() {
                let (lock, order, turns, both_done) = (&lock, &order, &turns, &both_done);
                scope.spawn(move || {
                    let mut interpreter = lock.acquire();
                    order.lock().unwrap().push(name);
                    while !both_done() {
                        if interpreter.checkpoint() {
                            order.lock().unwrap().push(name);
                            turns[me].fetch_add(1, SeqCst);
                        }
                        work();
                    }
                });
            }
        });
        let order = order.into_inner().unwrap();
        let middle = &order[1..order.len() - 1];
        assert!(middle.windows(2).all(|pair| pair[0] != pair[1]), "turns: {order:?}");
    });
}

#[test]
fn blocking_io_returns_what_the_io_returned() {
    within(|| {
        let lock = InterpreterLock::new(INTERVAL);
        let mut interpreter = lock.acquire();
        assert_eq!(interpreter.blocking_io(|| "HTTP/1.1 200 OK"), "HTTP/1.1 200 OK");
    });
}

#[test]
fn threads_in_blocking_io_wait_together() {
    within(|| {
        // Each thread's "I/O" waits until all four are in their I/O at once
        // (or gives up after a second): only a released lock allows that.
        let lock = InterpreterLock::new(INTERVAL);
        let (in_io, arrived) = (Mutex::new(0), Condvar::new());
        let most = AtomicUsize::new(0);
        thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut interpreter = lock.acquire();
                    interpreter.blocking_io(|| {
                        let mut count = in_io.lock().unwrap();
                        *count += 1;
                        most.fetch_max(*count, SeqCst);
                        arrived.notify_all();
                        let timeout = Duration::from_secs(1);
                        drop(arrived.wait_timeout_while(count, timeout, |c| *c < 4).unwrap());
                    });
                });
            }
        });
        assert_eq!(most.load(SeqCst), 4, "threads in their I/O at the same time");
    });
}

#[test]
fn after_blocking_io_one_thread_at_a_time_again() {
    within(|| {
        // Between two I/O calls each thread works with the lock held: no
        // other thread may be working at the same moment.
        let (lock, working, most) =
            (InterpreterLock::new(INTERVAL), AtomicUsize::new(0), AtomicUsize::new(0));
        thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut interpreter = lock.acquire();
                    for _ in 0..20 {
                        interpreter.blocking_io(|| thread::sleep(Duration::from_micros(200)));
                        most.fetch_max(working.fetch_add(1, SeqCst) + 1, SeqCst);
                        work();
                        working.fetch_sub(1, SeqCst);
                    }
                });
            }
        });
        assert_eq!(most.load(SeqCst), 1, "threads working at the same time");
    });
}

#[test]
fn a_panic_during_io_leaves_the_lock_usable() {
    within(|| {
        let lock = InterpreterLock::new(INTERVAL);
        let mut interpreter = lock.acquire();
        let failed = catch_unwind(AssertUnwindSafe(|| {
            interpreter.blocking_io(|| panic!("connection reset by peer"))
        }));
        let message = failed.expect_err("the panic reaches the caller");
        assert_eq!(message.downcast_ref::<&str>(), Some(&"connection reset by peer"));
        drop(interpreter);
        // Released exactly once: two more threads get it, one after the other.
        thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| drop(lock.acquire()));
            }
        });
    });
}
