//! The interpreter lock's behaviour: one holder at a time, a fair hand-over
//! to a waiting thread, and release around blocking I/O. Every wait has a
//! deadline far above the switch interval, so a broken lock fails the test
//! instead of hanging it, and a busy machine does not.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::interpreter_lock::InterpreterLock;
use crate::work::run_bytecodes;

const INTERVAL: Duration = Duration::from_millis(2);
const DEADLINE: Duration = Duration::from_secs(10);

/// Runs `f` on its own thread and returns its result, or fails the test if
/// it takes longer than `DEADLINE` (a lock that never hands over).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    thread::spawn(move || done.send(f()).unwrap());
    result
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what}: still waiting after {DEADLINE:?}"))
}

#[test]
fn without_a_waiter_the_holder_keeps_the_lock() {
    let lock = InterpreterLock::new(INTERVAL);
    let mut interpreter = lock.acquire();
    for unit in 0..2_000 {
        assert!(!interpreter.checkpoint(), "handed over to nobody");
        run_bytecodes(1_000, unit);
    }
    drop(interpreter);
    assert_eq!(lock.stats().handovers, 0);
}

#[test]
fn a_waiting_thread_gets_the_lock_from_a_busy_holder() {
    within("the waiting thread", || {
        let (lock, stop) = (InterpreterLock::new(INTERVAL), AtomicBool::new(false));
        thread::scope(|scope| {
            // The holder would run until stopped; only the waiter stops it,
            // and the waiter can only do so once it holds the lock.
            let holder = scope.spawn(|| {
                let mut interpreter = lock.acquire();
                let mut handed_over = 0;
                while !stop.load(SeqCst) {
                    handed_over += u32::from(interpreter.checkpoint());
                    run_bytecodes(1_000, 7);
                }
                handed_over
            });
            thread::sleep(INTERVAL * 5);
            let asked = Instant::now();
            let interpreter = lock.acquire();
            let waited = asked.elapsed();
            stop.store(true, SeqCst);
            drop(interpreter);
            assert!(holder.join().unwrap() >= 1, "the holder never handed over");
            assert!(waited < Duration::from_secs(2), "waited {waited:?}");
        });
        assert!(lock.stats().forced >= 1);
    });
}

#[test]
fn two_busy_threads_take_strict_turns() {
    let order = within("five turns each", || {
        let lock = InterpreterLock::new(INTERVAL);
        let order = Mutex::new(Vec::new());
        thread::scope(|scope| {
            for name in ['a', 'b'] {
                let (lock, order) = (&lock, &order);
                scope.spawn(move || {
                    let mut interpreter = lock.acquire();
                    order.lock().unwrap().push(name);
                    let mut turns = 1;
                    while turns < 5 {
                        if interpreter.checkpoint() {
                            order.lock().unwrap().push(name);
                            turns += 1;
                        }
                        run_bytecodes(1_000, 3);
                    }
                });
            }
        });
        order.into_inner().unwrap()
    });
    // Once both are waiting, a thread that hands over queues behind the
    // other: no thread ever has two turns in a row while the other waits.
    let middle = &order[1..order.len() - 1];
    assert!(middle.windows(2).all(|pair| pair[0] != pair[1]), "turns: {order:?}");
}

#[test]
fn blocking_io_lets_another_thread_run() {
    let answer = within("the I/O thread", || {
        let lock = InterpreterLock::new(INTERVAL);
        let (send, receive) = mpsc::channel();
        thread::scope(|scope| {
            let mut interpreter = lock.acquire();
            // The "I/O" waits for a message that another thread can only
            // send while it holds the lock: without a release, no answer.
            scope.spawn(|| {
                let _interpreter = lock.acquire();
                send.send("pong").unwrap();
            });
            interpreter.blocking_io(|| receive.recv_timeout(Duration::from_secs(5)))
        })
    });
    assert_eq!(answer, Ok("pong"));
}

#[test]
fn blocking_io_takes_the_lock_back_even_if_io_panics() {
    within("the lock after a panic", || {
        let lock = InterpreterLock::new(INTERVAL);
        let mut interpreter = lock.acquire();
        let failed = catch_unwind(AssertUnwindSafe(|| {
            interpreter.blocking_io(|| panic!("connection reset by peer"))
        }));
        let message = *failed.unwrap_err().downcast::<&str>().unwrap();
        assert_eq!(message, "connection reset by peer");
        drop(interpreter);
        // Released exactly once: two more threads get it, one after the other.
        thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| drop(lock.acquire()));
            }
        });
    });
}
