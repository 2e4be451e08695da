//! Waiting for data costs from a nanosecond to a millisecond: six orders of magnitude.
//!
//!     cargo run --release -p ch01 --bin cost_of_waiting -- --memory-mib 256

use std::{hint::black_box, os::unix::fs::FileExt, path::PathBuf, process::ExitCode, thread};
use std::{io::Read, io::Write, net::TcpListener, net::TcpStream, time::Duration};

use support::report::{Table, figure, verdict};

/// Time how long a program waits for data, from an L1 cache hit to a sleep.
#[derive(clap::Parser)]
pub struct Args {
    /// Size of the buffer chased for a main-memory miss; much larger than the last-level cache.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(8..=4096))]
    memory_mib: u64,
    /// Samples per row; each row reports the median.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=1000))]
    samples: u64,
    /// Directory for the fsync'd file (fsync on tmpfs costs nothing; try a real disk).
    #[arg(long, value_parser = |dir: &str| {
        Some(PathBuf::from(dir)).filter(|dir| dir.is_dir()).ok_or("not a folder")
    })]
    dir: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: chase
    // Each slot holds the index of the next one, in one random cycle: every load
    // depends on the previous one, so the CPU cannot overlap or prefetch them.
    // 512 slots (4 KiB) stay in the L1 cache; slots one cache line (8 words)
    // apart across 256 MiB miss every cache on almost every hop.
    let l1 = random_cycle(512, 1);
    let ram = random_cycle((args.memory_mib as usize) << 14, 8);
    let chase = |buffer: &[usize], hops| black_box((0..hops).fold(0, |at, _| buffer[at]));
    let l1_hit = per_op_ns(args.samples, 1_000_000, || chase(&l1, 1_000_000));
    let memory_miss = per_op_ns(args.samples, 200_000, || chase(&ram, 200_000));
    drop(ram); // Give the large buffer back before the kernel's waits.
    // ANCHOR_END: chase
    // ANCHOR: kernel
    // getppid() does nothing but enter the kernel and come back.
    let syscall = per_op_ns(args.samples, 100_000, || {
        for _ in 0..100_000 {
            black_box(std::os::unix::process::parent_id());
        }
    });
    // A 4 KiB read of a file just written is served from the page cache: no disk.
    let file = tempfile::tempfile_in(args.dir.unwrap_or_else(std::env::temp_dir)).expect("a file");
    let (page, mut into) = ([7u8; 4096], [0u8; 4096]);
    file.write_all_at(&page, 0).expect("write 4 KiB");
    let file_read = per_op_ns(args.samples, 10_000, || {
        for _ in 0..10_000 {
            file.read_exact_at(black_box(&mut into), 0).expect("read 4 KiB");
        }
    });
    // fsync returns only when the storage says the bytes are durable.
    let fsync = per_op_ns(args.samples * 3, 1, || {
        file.write_all_at(&page, 0).expect("write 4 KiB");
        file.sync_all().expect("fsync");
    });
    // One byte to a thread that echoes it back over loopback TCP.
    let (mut peer, mut byte) = (loopback_echo(), [1u8]);
    let rtt = per_op_ns(args.samples * 100, 1, || {
        peer.write_all(&byte).expect("send one byte");
        peer.read_exact(&mut byte).expect("receive it back");
    });
    // Ask to sleep for 1 ms and see how long the OS actually takes to wake us.
    let sleep = per_op_ns(args.samples * 3, 1, || thread::sleep(Duration::from_millis(1)));
    // ANCHOR_END: kernel
    let mut table = Table::new(["waiting for", "median", "if an L1 hit took 1 s"]);
    // Each row: what the program waits for, its metric, the median wait in ns.
    for (label, name, ns) in [
        ("L1 cache hit", "l1_hit_ns", l1_hit),
        ("main memory (cache miss)", "memory_miss_ns", memory_miss),
        ("system call (getppid)", "syscall_ns", syscall),
        ("4 KiB read, page cache", "file_read_ns", file_read),
        ("4 KiB write + fsync", "fsync_us", fsync),
        ("loopback TCP round trip", "loopback_rtt_us", rtt),
        ("sleep(1 ms), actual", "sleep_1ms_us", sleep),
    ] {
        let (scale, unit) = if name.ends_with("_us") { (1e3, "µs") } else { (1.0, "ns") };
        let median = figure(name, ns / scale, unit);
        table.cells(&format!("{label}|{median}|{}", human_scale(ns / l1_hit)));
    }
    table.print();
    let miss = figure("memory_miss_over_l1", memory_miss / l1_hit, "x");
    figure("loopback_rtt_over_l1", rtt / l1_hit, "x");
    figure("sleep_over_l1", sleep / l1_hit, "x");
    let ordered = l1_hit < memory_miss && memory_miss < rtt && rtt < sleep;
    verdict(
        "L1 hit < memory miss < loopback round trip < sleep(1 ms), a miss costs > 10 L1 hits",
        ordered && miss.value > 10.0 && sleep >= 1e6,
        &format!("a memory miss = {miss:.0} an L1 hit, sleep(1 ms) = {:.2} ms", sleep / 1e6),
    )
}

// ANCHOR: helpers
/// `slots` slots `stride` words apart, linked in one random cycle (Sattolo's shuffle, fixed seed).
fn random_cycle(slots: usize, stride: usize) -> Vec<usize> {
    let mut order: Vec<u32> = (0..slots as u32).collect();
    let mut random = support::random::Xorshift64::new(support::random::SEED);
    for i in (1..slots).rev() {
        order.swap(i, (random.next_u64() % i as u64) as usize);
    }
    let mut buffer = vec![0usize; slots * stride];
    for (i, &slot) in order.iter().enumerate() {
        buffer[slot as usize * stride] = order[(i + 1) % slots] as usize * stride;
    }
    buffer
}

/// The median time, in ns, of one of the `ops` operations that each of `samples` runs performs.
fn per_op_ns<T>(samples: u64, ops: usize, mut sample: impl FnMut() -> T) -> f64 {
    sample(); // Warm up: fault pages in, fill caches, wake the peer thread.
    let per_op = |_| support::timing::time(&mut sample).1.as_nanos() as f64 / ops as f64;
    support::timing::summarize(&(0..samples).map(per_op).collect::<Vec<_>>()).median
}

/// A loopback socket whose peer thread echoes each byte back, until the socket is dropped.
fn loopback_echo() -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let peer = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (mut server, _) = listener.accept().expect("accept");
    // Without TCP_NODELAY, Nagle's algorithm would hold back each single byte.
    peer.set_nodelay(true).and(server.set_nodelay(true)).expect("set TCP_NODELAY");
    thread::spawn(move || {
        let mut byte = [0u8];
        while server.read_exact(&mut byte).is_ok() && server.write_all(&byte).is_ok() {}
    });
    peer
}
// ANCHOR_END: helpers

/// `seconds` in the largest unit that makes it at least 1.
fn human_scale(seconds: f64) -> String {
    let units = [(31_557_600.0, "years"), (2_629_800.0, "months"), (86_400.0, "days")];
    let mut units = units.into_iter().chain([(3_600.0, "hours"), (60.0, "minutes")]);
    let (size, name) = units.find(|(size, _)| seconds >= *size).unwrap_or((1.0, "seconds"));
    format!("{:.1} {name}", seconds / size)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
