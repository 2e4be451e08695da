//! Chapter 1's shared code, which the book shows by file and anchor:
//! [`fetch`], one ticker fetch on a non-blocking `mio` socket, which
//! `readiness_fetch` moves on from its poll loop and `fetch_and_save_callbacks`
//! from a callback; [`http`], where a response's body ends, for the blocking
//! and non-blocking reads of `blocking_fetch` and `nonblocking_socket`; and
//! [`worker`], the thread that does a loop's blocking file work, for
//! `fetch_and_save_callbacks` and `file_readiness`.

pub mod fetch;
pub mod http;
pub mod worker;
