//! A future that borrows itself must not move: `Box::pin` costs one allocation, `pin!` none.
//!
//!     cargo run --release -p ch05 --bin pinned_future -- --futures 1000

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::pin::{Pin, pin};
use std::process::ExitCode;
use std::task::{Context, Poll, Waker};

use support::report::{Table, figure, verdict};

/// Pin a self-borrowing future two ways, and count what each way allocates.
#[derive(clap::Parser)]
pub struct Args {
    /// How many futures each fix pins and polls to completion.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    futures: u64,
}

// ANCHOR: read_page
/// A leaf future, like a socket with no data at first: `Pending` once, then
/// it copies a page of three prices into the buffer it borrows.
struct Fill<'a> {
    page: &'a mut [u8],
    polled: bool,
}

impl Future for Fill<'_> {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        if !std::mem::replace(&mut self.polled, true) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let page = b"10157\n10176\n10160\n";
        self.page[..page.len()].copy_from_slice(page);
        Poll::Ready(page.len())
    }
}

/// Suspended at its `.await`, this future holds `page`, and `Fill` inside it
/// holds `&mut page`: a reference into the future itself. It must not move.
async fn read_page() -> usize {
    let mut page = [0u8; 4096];
    let n = Fill { page: &mut page, polled: false }.await;
    page[..n].iter().filter(|&&b| b == b'\n').count()
}

/// Polls a future the caller may move between polls: only an `Unpin` one.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls until `Ready`, the smallest executor again, for `Unpin` futures.
fn poll_to_end<F: Future + Unpin>(future: &mut F) -> F::Output {
    loop {
        if let Poll::Ready(output) = poll_once(future) {
            return output;
        }
    }
}
// ANCHOR_END: read_page

// ANCHOR: fixes
/// Fix 1: `Box::pin` moves the future to the heap, once, before its first
/// poll. What the caller holds is a pointer, and `Pin<Box<_>>` is `Unpin`:
/// the pointer may move anywhere, here out of this function after a poll.
fn start_boxed() -> Pin<Box<impl Future<Output = usize>>> {
    let mut future = Box::pin(read_page());
    assert!(poll_once(&mut future).is_pending()); // now it borrows its own buffer
    future
}

fn read_boxed() -> usize {
    poll_to_end(&mut start_boxed()) // the pointer moved; the future did not
}

/// Fix 2: `pin!` pins the future where it is, in this stack frame: no
/// allocation, but the future can never leave the frame, nor outlive it.
fn read_pinned() -> usize {
    let mut future = pin!(read_page()); // a `Pin<&mut _>`, which is `Unpin`
    poll_to_end(&mut future)
}
// ANCHOR_END: fixes

thread_local! {
    /// How many allocations this thread has made: `Counting` counts them.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The global allocator: `System`'s, counting.
struct Counting;

// SAFETY: every call is passed to `System` unchanged; counting allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`, as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `read` `n` times: the allocations this thread made, and whether each read 3 lines.
fn count(n: u64, read: fn() -> usize) -> (u64, bool) {
    let before = ALLOCATIONS.with(Cell::get);
    let all_read = (0..n).fold(true, |ok, _| ok & (read() == 3));
    (ALLOCATIONS.with(Cell::get) - before, all_read)
}

pub fn run(args: Args) -> ExitCode {
    let n = args.futures;
    let (box_allocations, boxed_read) = count(n, read_boxed);
    let (pin_allocations, pinned_read) = count(n, read_pinned);
    let future_bytes = figure("future_bytes", size_of_val(&read_page()) as f64, "bytes");
    let pointer = figure("pointer_bytes", size_of_val(&start_boxed()) as f64, "bytes");
    let per = |allocations: u64| allocations as f64 / n as f64;
    let boxed = figure("box_pin_allocations", per(box_allocations), "per future");
    let pinned = figure("pin_allocations", per(pin_allocations), "per future");
    let lives = format!("the future ({future_bytes}) lives");
    let mut table = Table::new(["fix", "allocations per future", &lives, "the caller holds"]);
    table
        .cells(&format!("Box::pin|{boxed:#}|on the heap|a Pin<Box<_>> of {pointer}, free to move"));
    table.cells(&format!("pin!|{pinned:#}|in the stack frame|a Pin<&mut _>, bound to the frame"));
    table.print();
    let exact = box_allocations == n && pin_allocations == 0 && boxed_read && pinned_read;
    let held = exact && pointer.value == size_of::<usize>() as f64 && future_bytes.value >= 4096.0;
    let claim = "Box::pin allocates once per future and pin! never; a Pin<Box<_>> is one pointer";
    let counts = format!("{box_allocations} and {pin_allocations} allocations");
    verdict(claim, held, &format!("{n} futures: {counts}; {pointer} moved"))
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
