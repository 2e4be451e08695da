use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread::ThreadId;
use std::time::Duration;

use crate::ch07::resource_actor::Actor;

/// A ledger that must not leave the thread that made it: the `Rc` makes it
/// neither `Send` nor `Sync`, as a connection to some C library may be.
struct Ledger {
    balances: HashMap<String, i64>,
    _thread_bound: Rc<()>,
}

fn open_ledger() -> Ledger {
    Ledger { balances: HashMap::new(), _thread_bound: Rc::new(()) }
}

/// Deposits from `threads` threads, `each` deposits of 1 apiece, then checks
/// the balance and that every job ran on one thread, not a caller's.
fn check(threads: usize, each: usize) {
    let (ledger, owner) = Actor::spawn(open_ledger);
    let callers: Vec<_> = (0..threads)
        .map(|_| {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                let mut ran_on = Vec::new();
                for _ in 0..each {
                    ran_on.push(ledger.call(|l: &mut Ledger| {
                        *l.balances.entry("ACME".into()).or_default() += 1;
                        std::thread::current().id()
                    }));
                }
                (std::thread::current().id(), ran_on)
            })
        })
        .collect();
    let mut owners: HashSet<ThreadId> = HashSet::new();
    for caller in callers {
        let (caller, ran_on) = caller.join().expect("the caller ends");
        assert!(!ran_on.contains(&caller), "a job ran on its caller's thread");
        owners.extend(ran_on);
    }
    assert_eq!(owners.len(), 1, "every job ran on the one owner thread");
    let balance = ledger.call(|l: &mut Ledger| l.balances["ACME"]);
    assert_eq!(balance, (threads * each) as i64);
    ends_when_dropped(ledger, owner);
}

/// Drops the last handle and checks the owner thread ends (within 10 s, a
/// margin no machine needs; a thread that never ends fails the test).
fn ends_when_dropped<R>(actor: Actor<R>, owner: std::thread::JoinHandle<()>) {
    drop(actor);
    let (ended, ended_rx) = mpsc::channel();
    std::thread::spawn(move || ended.send(owner.join().is_ok()));
    let ended = ended_rx.recv_timeout(Duration::from_secs(10));
    assert_eq!(ended, Ok(true), "the owner thread ends after the last handle is dropped");
}

#[test]
fn one_caller_gets_its_answers_in_order() {
    let (counter, owner) = Actor::spawn(|| Rc::new(std::cell::Cell::new(0u32)));
    let answers: Vec<u32> = (0..5)
        .map(|_| {
            counter.call(|c: &mut Rc<std::cell::Cell<u32>>| {
                c.set(c.get() + 1);
                c.get()
            })
        })
        .collect();
    assert_eq!(answers, [1, 2, 3, 4, 5]);
    ends_when_dropped(counter, owner);
}

#[test]
fn deposits_from_one_thread() {
    check(1, 10);
}

#[test]
fn deposits_from_many_threads_all_run_on_the_owner() {
    check(8, 100);
}
