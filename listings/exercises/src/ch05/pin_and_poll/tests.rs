use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::ch05::pin_and_poll::{now_or_never, round_robin};

/// A future of any type, pinned on the heap: what `round_robin` takes.
type Boxed<'a> = Pin<Box<dyn Future<Output = usize> + 'a>>;

/// A leaf future: `Pending` `pending` times, waking its waker each time, then
/// `Ready(())`; it counts every poll it gets in `polls`.
struct Ticks<'a> {
    pending: u32,
    polls: &'a Cell<u32>,
}

impl Future for Ticks<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        if self.pending == 0 {
            return Poll::Ready(());
        }
        self.pending -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// An `async fn` that keeps a page across its `.await` and reads it after:
/// its future is not `Unpin`, so neither `Pin::new` nor a move after a poll
/// would do. It waits `pending` polls, then counts the page's newlines.
async fn read_page(pending: u32, polls: &Cell<u32>) -> usize {
    let page = [b'\n'; 512];
    let lines = &page[..];
    Ticks { pending, polls }.await;
    lines.iter().filter(|&&b| b == b'\n').count()
}

#[test]
fn now_or_never_gives_the_output_of_a_future_that_needs_one_poll() {
    let polls = Cell::new(0);
    assert_eq!(now_or_never(async { 7 }), Some(7));
    assert_eq!(now_or_never(read_page(0, &polls)), Some(512));
    assert_eq!(polls.get(), 1);
}

#[test]
fn now_or_never_polls_a_waiting_future_exactly_once() {
    let polls = Cell::new(0);
    assert_eq!(now_or_never(read_page(3, &polls)), None);
    assert_eq!(polls.get(), 1);
    assert_eq!(now_or_never(std::future::pending::<u32>()), None);
}

#[test]
fn round_robin_returns_outputs_in_the_order_they_finished() {
    let polls = [Cell::new(0), Cell::new(0), Cell::new(0)];
    let futures: Vec<Boxed> = vec![
        Box::pin(read_page(2, &polls[0])),
        Box::pin(async { 42 }),
        Box::pin(read_page(1, &polls[2])),
    ];
    assert_eq!(round_robin(futures), [(1, 42), (2, 512), (0, 512)]);
}

#[test]
fn round_robin_polls_each_future_until_ready_and_never_after() {
    let polls: Vec<Cell<u32>> = (0..4).map(|_| Cell::new(0)).collect();
    let pendings = [3, 0, 5, 1];
    let futures: Vec<Boxed> = pendings
        .iter()
        .zip(&polls)
        .map(|(&pending, polls)| Box::pin(read_page(pending, polls)) as Boxed)
        .collect();
    let order: Vec<usize> = round_robin(futures).into_iter().map(|(index, _)| index).collect();
    assert_eq!(order, [1, 3, 0, 2]);
    // Pending `pending` times, then Ready once: one poll more than its pendings.
    let counted: Vec<u32> = polls.iter().map(Cell::get).collect();
    assert_eq!(counted, [4, 1, 6, 2]);
}

#[test]
fn round_robin_of_nothing_is_nothing() {
    assert!(round_robin::<u32>(Vec::new()).is_empty());
}
