//! Green threads (coroutines and a hub, like gevent) overlap I/O jobs; CPU jobs stay on one core.
//!
//!     cargo run --release -p ch08 --bin green_both_jobs -- --jobs 10 --exponent 200000 --latency-ms 100

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;

use corosensei::{Coroutine, CoroutineResult, Yielder};
use support::latency::{Config, LatencyServer};
use support::report::{Table, figure, verdict};
use support::timing::measure;

/// Run the CPU-bound and the I/O-bound job `jobs` times each, as green threads on one OS thread.
#[derive(clap::Parser)]
pub struct Args {
    /// How many times each job runs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// The CPU-bound job computes 7777 to this power.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u32).range(1_000..=2_000_000))]
    exponent: u32,
    /// The I/O-bound job fetches this many pages, one after another.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    requests: u32,
    /// The simulated API answers each request after this many milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    latency_ms: u64,
}

/// The CPU-bound job, as in the other listings: the result's size in bits.
fn power_job(exponent: u32) -> usize {
    num_bigint::BigUint::from(7777u32).pow(exponent).bits() as usize
}

// ANCHOR: green
type Greenlet = Coroutine<(), RawFd, usize>;

/// The same job in a green thread: a read that would block hands its socket
/// to the hub and suspends, as a socket patched by gevent does.
fn green_job(hub: &Yielder<(), RawFd>, addr: SocketAddr, requests: u32) -> usize {
    let (mut received, mut buf) = (0, [0u8; 4096]);
    for page in 1..=requests {
        // A loopback connect completes at once; gevent patches connect too.
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(ch08::ticker::request(page).as_bytes()).expect("send");
        stream.set_nonblocking(true).expect("non-blocking");
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => received += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => hub.suspend(stream.as_raw_fd()),
                Err(e) => panic!("receive: {e}"),
            }
        }
    }
    received
}

/// The hub: run the ready green threads, then sleep in `poll(2)` until some
/// of the waiting ones' sockets are readable.
fn hub(mut ready: Vec<Greenlet>) -> usize {
    let (mut waiting, mut received) = (Vec::<(Greenlet, RawFd)>::new(), 0);
    loop {
        for mut greenlet in ready.drain(..) {
            match greenlet.resume(()) {
                CoroutineResult::Yield(fd) => waiting.push((greenlet, fd)),
                CoroutineResult::Return(bytes) => received += bytes,
            }
        }
        if waiting.is_empty() {
            return received;
        }
        let pollfd =
            |&(_, fd): &(Greenlet, RawFd)| libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let mut fds: Vec<libc::pollfd> = waiting.iter().map(pollfd).collect();
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs.
        let found = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 10_000) };
        assert!(found > 0, "no socket ready in 10 s: {}", std::io::Error::last_os_error());
        for (i, fd) in fds.iter().enumerate().rev() {
            if fd.revents != 0 {
                ready.push(waiting.swap_remove(i).0);
            }
        }
    }
}
// ANCHOR_END: green

pub fn run(args: Args) -> ExitCode {
    let server = LatencyServer::start(Config::latency(args.latency_ms)).expect("start the API");
    let (addr, jobs, requests, exponent) = (server.addr(), args.jobs, args.requests, args.exponent);

    // ANCHOR: run
    // One job alone, for scale; then every job at once, as green threads.
    let (one_power, alone) = measure(|| power_job(exponent));
    let (powers, cpu) = measure(|| {
        hub((0..jobs).map(|_| Coroutine::new(move |_, ()| power_job(exponent))).collect())
    });
    let (received, io) = measure(|| {
        hub((0..jobs).map(|_| Coroutine::new(move |y, ()| green_job(y, addr, requests))).collect())
    });
    // ANCHOR_END: run

    let secs = |took: std::time::Duration| took.as_secs_f64();
    let (power_alone, fetch_alone) =
        (secs(alone.wall), requests as f64 * args.latency_ms as f64 / 1e3);
    let cpu_s = figure("green_cpu_s", secs(cpu.wall), "s");
    let io_s = figure("green_io_s", secs(io.wall), "s");
    let cores_used = figure("green_cpu_cores_used", secs(cpu.cpu) / cpu_s.value, "cores");
    let (cpu_jobs, io_jobs, io_cores) =
        (cpu_s.value / power_alone, io_s.value / fetch_alone, secs(io.cpu) / io_s.value);
    let header = ["job", "one job alone (s)", "all jobs, green (s)", "in jobs alone", "cores used"];
    let mut table = Table::new(header);
    table.cells(&format!("CPU-bound|{power_alone:.2}|{cpu_s:#.2}|{cpu_jobs:.1}|{cores_used:#.2}"));
    table.cells(&format!("I/O-bound|{fetch_alone:.2}|{io_s:#.2}|{io_jobs:.1}|{io_cores:.2}"));
    table.print();
    let served = server.requests_served();
    println!("{jobs} jobs of each kind on one OS thread; {served} responses served");

    // The CPU jobs never reach a point where they would suspend: one thread,
    // one core at most, about the sum of the jobs. The fetches suspend at
    // every wait, so they overlap: about one job's wait for all of them.
    let right = powers == jobs as usize * one_power && received > 0;
    let overlapped = io_s.value < 3.0 * fetch_alone && io_s.value >= 0.9 * fetch_alone;
    verdict(
        "green threads overlap the I/O-bound jobs but run the CPU-bound ones one after another",
        right && cores_used.value < 1.1 && overlapped,
        &format!("CPU: {cpu_jobs:.1} jobs' time on {cores_used:.2}; I/O: {io_jobs:.1} jobs' waits"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
