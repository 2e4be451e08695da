//! What the chapter's event loop promises, tested on behaviour, not on timing.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io::{Read, Write};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use crate::mini_loop::{TcpStream, block_on, observe, sleep, spawn, stats};

/// A log that tasks append to, in the order they ran.
fn log() -> Rc<RefCell<Vec<&'static str>>> {
    Rc::default()
}

#[test]
fn timers_fire_in_deadline_order_not_spawn_order() {
    let order = log();
    let handles: Vec<_> = [("slow", 60), ("fast", 20), ("middle", 40)]
        .into_iter()
        .map(|(name, ms)| {
            let order = Rc::clone(&order);
            (name, ms, order)
        })
        .collect();
    block_on(async {
        let tasks: Vec<_> = handles
            .into_iter()
            .map(|(name, ms, order)| {
                spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    order.borrow_mut().push(name);
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    });
    assert_eq!(*order.borrow(), ["fast", "middle", "slow"]);
}

#[test]
fn a_sleep_counts_from_its_call_not_from_its_first_poll() {
    block_on(async {
        let nap = sleep(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30)); // The loop is busy past the deadline.
        let parks = stats().parks;
        nap.await; // Due already: ready on its first poll, no wait in epoll.
        assert_eq!(stats().parks, parks);
    });
}

#[test]
fn a_task_woken_twice_before_it_runs_is_polled_once() {
    let polls = Rc::new(RefCell::new(0));
    let counted = Rc::clone(&polls);
    block_on(async move {
        poll_fn(|cx| {
            *counted.borrow_mut() += 1;
            if *counted.borrow() == 1 {
                cx.waker().wake_by_ref();
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(())
        })
        .await;
        // One poll before the wakes, one after: the second wake was absorbed.
        assert_eq!(stats().polls, 2);
    });
    assert_eq!(*polls.borrow(), 2);
}

#[test]
fn spawn_inside_a_task_works_and_every_task_finishes() {
    let order = log();
    let outer_log = Rc::clone(&order);
    let left = block_on(async move {
        let parent = spawn(async move {
            let inner_log = Rc::clone(&outer_log);
            let child = spawn(async move {
                sleep(Duration::from_millis(10)).await;
                inner_log.borrow_mut().push("child");
                7
            });
            outer_log.borrow_mut().push("parent waits");
            let from_child = child.await;
            outer_log.borrow_mut().push("parent done");
            from_child * 6
        });
        assert_eq!(parent.await, 42);
        stats().live_tasks
    });
    assert_eq!(left, 0, "no task is left when the loop exits");
    assert_eq!(*order.borrow(), ["parent waits", "child", "parent done"]);
}

#[test]
fn io_readiness_wakes_the_task_that_waits_on_that_socket() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The peer answers the second connection first, then the first one.
    let peer = std::thread::spawn(move || {
        let (mut first, _) = listener.accept().unwrap();
        let (mut second, _) = listener.accept().unwrap();
        let mut request = [0u8; 5];
        second.read_exact(&mut request).unwrap();
        second.write_all(b"to B").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        first.read_exact(&mut request).unwrap();
        first.write_all(b"to A").unwrap();
    });
    let order = log();
    let answers = block_on(async {
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let tasks: Vec<_> = [("A", a), ("B", b)]
            .into_iter()
            .map(|(name, mut stream)| {
                let order = Rc::clone(&order);
                spawn(async move {
                    stream.write_all(b"hello").await.unwrap();
                    let mut buffer = [0u8; 16];
                    let n = stream.read(&mut buffer).await.unwrap();
                    order.borrow_mut().push(name);
                    String::from_utf8_lossy(&buffer[..n]).into_owned()
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await);
        }
        answers
    });
    peer.join().unwrap();
    assert_eq!(answers, ["to A", "to B"]);
    assert_eq!(*order.borrow(), ["B", "A"]);
}

#[test]
fn a_wake_from_another_thread_interrupts_the_wait_in_epoll() {
    let (sender, receiver) = futures::channel::oneshot::channel();
    let helper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        sender.send("from a thread").unwrap();
    });
    // No timer and no socket: only the cross-thread wake can end the wait.
    let got = block_on(async { (receiver.await.unwrap(), stats().parks) });
    helper.join().unwrap();
    assert_eq!(got.0, "from a thread");
    assert!(got.1 >= 1, "the loop waited in epoll: {got:?}");
}

#[test]
fn outside_block_on_spawn_says_why_it_cannot() {
    let refused = std::panic::catch_unwind(|| spawn(async {})).map(drop).unwrap_err();
    let message = match refused.downcast_ref::<&str>() {
        Some(message) => message.to_string(),
        None => refused.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert_eq!(message, "mini_loop: call this inside block_on");
}

#[test]
fn an_observer_sees_what_each_turn_ran_and_left_parked() {
    let turns = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&turns);
    let polls = block_on(async move {
        observe(move |tick| seen.borrow_mut().push((tick.ran, tick.parked)));
        let sleepers: Vec<_> =
            [10, 20].into_iter().map(|ms| spawn(sleep(Duration::from_millis(ms)))).collect();
        for sleeper in sleepers {
            sleeper.await;
        }
        stats().polls
    });
    let turns = turns.borrow();
    // The first turn ran `main` and both sleepers, which left two timers;
    // later turns drain them. The turn in which `main` returns is not seen.
    assert_eq!(turns[0], (3, 2));
    assert_eq!(turns.last().unwrap().1, 0, "no task is parked at the end");
    let reported: u64 = turns.iter().map(|(ran, _)| ran).sum();
    assert!(reported < polls, "{turns:?} against {polls} polls");
}
