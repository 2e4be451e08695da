//! The examples of the appendix "The Rust this book uses", each a test, so
//! that every one compiles and does what the page says.

use std::sync::{Arc, Mutex};
use std::thread;

#[test]
fn a_value_moves_into_the_thread_that_uses_it() {
    // ANCHOR: move
    let prices = Vec::from([101.25, 101.50, 100.75]); // owned, on the heap
    // `move` hands `prices` to the new thread: it owns them now, and they
    // live as long as it needs them, whenever the caller returns.
    let worker = thread::spawn(move || prices.iter().sum::<f64>());
    // println!("{prices:?}"); // would not compile: `prices` moved away
    let total = worker.join().expect("the thread did not panic");
    assert_eq!(total, 303.5);
    // ANCHOR_END: move
}

#[test]
fn threads_share_a_value_through_arc_and_change_it_through_a_mutex() {
    // ANCHOR: arc_mutex
    // `Arc`: shared ownership, counted atomically, so any thread may hold a
    // copy of the pointer. `Mutex`: one thread at a time may change what it guards.
    let volume = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let volume = Arc::clone(&volume); // a second owner, for this thread
            thread::spawn(move || *volume.lock().unwrap() += 100)
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(*volume.lock().unwrap(), 400);
    // ANCHOR_END: arc_mutex
}

#[test]
fn send_and_sync_are_checked_by_the_compiler() {
    // ANCHOR: send_sync
    // `Send`: a value may move to another thread. `Sync`: a reference to it
    // may be shared between threads. The compiler works both out from the
    // type, and refuses a spawn that would break them.
    fn crosses_threads<T: Send + Sync>(_: &T) {}
    crosses_threads(&Arc::new(Mutex::new(0u64))); // compiles
    // crosses_threads(&std::rc::Rc::new(0u64)); // would not compile: `Rc` is neither
    // ANCHOR_END: send_sync
}

#[test]
fn a_scope_lets_threads_borrow_what_outlives_it() {
    // ANCHOR: scope
    // `thread::spawn` needs `'static` data (owned, or living for ever),
    // because the thread may outlive the caller. `thread::scope` joins its
    // threads before it returns, so they may borrow the caller's locals.
    let quotes = ["ACME 101.25", "INIT 88.10"];
    let lengths: Vec<usize> = thread::scope(|scope| {
        let handles: Vec<_> = quotes.iter().map(|q| scope.spawn(move || q.len())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(lengths, [11, 10]);
    // ANCHOR_END: scope
}

#[test]
fn errors_are_values_and_question_mark_passes_them_up() {
    // ANCHOR: result
    // A function that can fail returns `Result`; `?` returns the error to
    // the caller at once, as an exception would propagate, but in the type.
    fn price_of(quote: &str) -> Result<f64, String> {
        let (_symbol, price) = quote.split_once(' ').ok_or("no price in the quote")?;
        price.parse::<f64>().map_err(|e| format!("{price:?}: {e}"))
    }
    assert_eq!(price_of("ACME 101.25"), Ok(101.25));
    assert_eq!(price_of("ACME"), Err("no price in the quote".to_string()));
    assert!(price_of("ACME n/a").unwrap_err().contains("invalid float literal"));
    // A thread's panic comes back the same way: `join` returns a `Result`.
    assert!(thread::spawn(|| panic!("a bad quote")).join().is_err());
    // ANCHOR_END: result
}
