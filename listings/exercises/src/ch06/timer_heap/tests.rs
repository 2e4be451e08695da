use crate::ch06::timer_heap::Timers;

/// Adds `(deadline, task)` pairs, then expires at each time of `steps` and
/// checks the tasks due and the timeout left after each step.
fn check(timers: &[(u64, usize)], steps: &[(u64, &[usize], Option<u64>)]) {
    let mut heap = Timers::new();
    for &(deadline, task) in timers {
        heap.add(deadline, task);
    }
    for &(now, due, timeout) in steps {
        assert_eq!(heap.expire(now), due, "due at {now} ms");
        assert_eq!(heap.next_timeout(now), timeout, "timeout after {now} ms");
    }
}

#[test]
fn no_timer_means_wait_for_io_only() {
    check(&[], &[(0, &[], None), (1_000, &[], None)]);
}

#[test]
fn timers_expire_soonest_first_whatever_the_order_added() {
    check(
        &[(300, 1), (100, 2), (200, 3)],
        &[(0, &[], Some(100)), (250, &[2, 3], Some(50)), (300, &[1], None)],
    );
}

#[test]
fn equal_deadlines_expire_in_the_order_added() {
    check(&[(50, 9), (50, 4), (50, 7), (10, 1)], &[(60, &[1, 9, 4, 7], None)]);
}

#[test]
fn a_late_loop_expires_everything_overdue_at_once() {
    check(
        &[(10, 1), (20, 2), (1_000, 3)],
        &[(500, &[1, 2], Some(500)), (999, &[], Some(1)), (1_000, &[3], None)],
    );
}

#[test]
fn a_due_timer_means_do_not_wait() {
    let mut heap = Timers::new();
    heap.add(100, 1);
    assert_eq!(heap.next_timeout(150), Some(0));
    assert_eq!(heap.expire(150), [1]);
}
