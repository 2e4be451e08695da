//! epoll refuses a regular file, so a loop that must not block writes files on a worker thread.
//!
//!     cargo run --release -p ch01 --bin file_readiness -- --kib 1024

use std::io::{self, Write};
use std::{fs, os::fd::AsRawFd, process::ExitCode, time::Instant};

use ch01::worker::Worker;
use mio::{Events, Poll, Token};
use support::report::{figure, verdict};
use support::timing::thread_context_switches;

/// Ask epoll to wait on a regular file, then write the file from a worker thread instead.
#[derive(clap::Parser)]
pub struct Args {
    /// How much to write and fsync, in KiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(4..=65536))]
    kib: u64,
}

const WAKER: Token = Token(0);

pub fn run(args: Args) -> ExitCode {
    let dir = tempfile::tempdir().expect("create a scratch directory");
    let mut file = fs::File::create(dir.path().join("ACME.json")).expect("create the file");
    let page = vec![b'7'; args.kib as usize * 1024];
    let mut poll = Poll::new().expect("create the poller");

    // ANCHOR: refused
    // Ask mio's epoll to say when the file can be written, as it would for a socket.
    let mut ready = libc::epoll_event { events: libc::EPOLLOUT as u32, u64: 1 };
    let (epoll, fd) = (poll.as_raw_fd(), file.as_raw_fd());
    // SAFETY: both descriptors stay open for the whole call, and `ready` outlives it.
    let added = unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut ready) };
    // EPERM: a regular file always counts as ready, so there is nothing to wait for,
    // and a write to it blocks on the storage without ever saying "would block".
    let refused = (added == -1).then(io::Error::last_os_error);
    // ANCHOR_END: refused
    let eperm = refused.as_ref().and_then(io::Error::raw_os_error) == Some(libc::EPERM);
    let answer = refused.as_ref().map_or("accepted".into(), io::Error::to_string);
    println!("epoll_ctl(EPOLL_CTL_ADD) on a regular file: {answer}");

    // ANCHOR: worker
    // So the write goes to the worker, and the loop thread waits in poll until the worker's
    // waker says it is done; then it runs what comes back, on the loop.
    let mut worker = Worker::start(&poll, WAKER);
    let (start, before) = (Instant::now(), thread_context_switches()); // measuring
    worker.spawn_blocking(move || {
        let written = file.write_all(&page).and_then(|()| file.sync_all());
        Box::new(move || written.expect("write and fsync"))
    });
    let (mut events, mut waits) = (Events::with_capacity(8), Vec::new());
    while worker.running() > 0 {
        let before_poll = thread_context_switches(); // measuring
        poll.poll(&mut events, None).expect("poll");
        waits.push(thread_context_switches().since(before_poll).voluntary); // measuring
        worker.complete(); // The waker is the only thing registered, so it woke us.
    }
    // ANCHOR_END: worker

    let blocks = thread_context_switches().since(before).voluntary as f64;
    let saved = figure("saved_ms", support::timing::ms(start.elapsed()), "ms");
    let polls = figure("polls", waits.len() as f64, "");
    let in_poll = figure("blocks_in_poll", waits.iter().sum::<u64>() as f64, "");
    let elsewhere = figure("blocks_elsewhere", blocks - in_poll.value, "");
    figure("epoll_refused_file", f64::from(u8::from(eperm)), "");
    verdict(
        "epoll refuses a regular file; with the write on a worker, the loop thread blocks only in poll",
        eperm && elsewhere.value == 0.0,
        &format!(
            "EPERM: {eperm}; {} KiB written and fsync'd in {saved:.1}; the loop thread blocked \
             {in_poll} time(s) in {polls} poll(s), {elsewhere} elsewhere",
            args.kib
        ),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
