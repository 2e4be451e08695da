//! A future that borrows its own buffer across `.await` must not move: polling it unpinned fails.
//!
//!     rustc --edition 2024 listings/ch05/compile_fail/unpinned_future.rs

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

// ANCHOR: unpinned
/// Counts the lines of a page. At its `.await`, where it may be suspended,
/// this future holds the 4 KiB `page` and, inside the future it awaits, a
/// reference to `page`: a reference into itself. Moved to another address,
/// that reference would point at the old one.
async fn read_page() -> usize {
    let page = [b'\n'; 4096];
    count_lines(&page).await
}

async fn count_lines(page: &[u8]) -> usize {
    page.iter().filter(|&&b| b == b'\n').count()
}

/// Polls any future the caller may still move afterwards: `Pin::new` takes
/// only a future that is `Unpin`, safe to move even after a poll.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

fn main() {
    let mut future = read_page();
    println!("{:?}", poll_once(&mut future));
}
// ANCHOR_END: unpinned
