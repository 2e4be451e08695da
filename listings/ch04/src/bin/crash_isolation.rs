//! A worker process that crashes does not take its parent down; the parent sees how it died.
//!
//!     cargo run --release -p ch04 --bin crash_isolation

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitCode, Stdio};

use support::child::Reaped;
use support::report::{Table, figure, verdict};

/// Start workers that die in every common way, and report what the parent saw.
#[derive(clap::Parser)]
pub struct Args {
    /// Run as a worker process that dies this way (the listing starts itself so).
    #[arg(long, hide = true)]
    worker: Option<Death>,
}

// ANCHOR: observe
/// How a process ended, as the kernel reports it to its parent.
#[derive(Clone, Copy, PartialEq)]
enum End {
    Code(i32),
    Signal(i32),
}

/// Starts this program again as a worker that dies as `death` says; returns
/// how it ended, and what it wrote on stderr.
fn observe(death: Death) -> (End, String) {
    let flag = clap::ValueEnum::to_possible_value(&death).expect("every death has a name");
    let mut command = support::child::command("crash_isolation");
    // RUST_BACKTRACE=0 keeps the panic message to its two lines.
    command.args(["--worker", flag.get_name()]).env("RUST_BACKTRACE", "0");
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut worker = Reaped(command.spawn().expect("start a worker process"));
    if death == Death::KilledByParent {
        worker.0.kill().expect("send SIGKILL");
    }
    let stderr =
        std::io::read_to_string(worker.0.stderr.take().expect("piped")).unwrap_or_default();
    let status = worker.0.wait().expect("wait for the worker");
    // On Unix a process ends one of two ways: it exits with a code, or a
    // signal ends it. `code()` is the first, `signal()` the second.
    let end = match (status.code(), status.signal()) {
        (Some(code), _) => End::Code(code),
        (None, Some(signal)) => End::Signal(signal),
        (None, None) => unreachable!("a process that ended has a code or a signal"),
    };
    (end, stderr)
}
// ANCHOR_END: observe

/// Each way to die, with how the parent should see it end.
const DEATHS: [(Death, &str, End); 7] = [
    (Death::ExitCode, "exits with code 3", End::Code(3)),
    (Death::Panic, "panics on its main thread", End::Code(101)),
    (Death::PanicInThread, "panics on another thread", End::Code(0)),
    (Death::Abort, "calls process::abort()", End::Signal(libc::SIGABRT)),
    (Death::Segfault, "writes through a bad pointer", End::Signal(libc::SIGSEGV)),
    (Death::SegfaultInThread, "does that on another thread", End::Signal(libc::SIGSEGV)),
    (Death::KilledByParent, "is killed (as by the OOM killer)", End::Signal(libc::SIGKILL)),
];

pub fn run(args: Args) -> ExitCode {
    if let Some(death) = args.worker {
        return die(death);
    }
    let mut table = Table::new(["the worker", "code()", "signal()", "its last words on stderr"]);
    let mut as_expected = 0;
    for (death, what, expected) in DEATHS {
        let (end, stderr) = observe(death);
        as_expected += usize::from(end == expected);
        let how = match end {
            End::Code(code) => format!("{code}|-"),
            End::Signal(signal) => format!("-|{signal} ({})", signal_name(signal)),
        };
        table.cells(&format!("{what}|{how}|{}", last_words(&stderr)));
    }
    table.print();
    figure("deaths_seen", as_expected as f64, "deaths");
    let seen = format!("{as_expected} of {} deaths seen as expected", DEATHS.len());
    println!("the parent is still running: {seen}");
    let claim = "the parent outlives every crash of a worker and tells them apart";
    verdict(claim, as_expected == DEATHS.len(), &seen)
}

// ANCHOR: die
/// The ways a worker dies.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Death {
    ExitCode,
    Panic,
    PanicInThread,
    Abort,
    Segfault,
    SegfaultInThread,
    KilledByParent,
}

/// The worker's side: a bug of each kind.
fn die(death: Death) -> ExitCode {
    let segfault = || {
        // A bug that C code, or wrong unsafe Rust, can have: a write through a
        // pointer to memory that is not mapped. The CPU faults, the kernel
        // sends SIGSEGV, and nothing in the process can carry on.
        let dangling = std::ptr::dangling_mut::<u64>();
        // SAFETY: none; this is the bug being demonstrated.
        unsafe { dangling.write_volatile(7) };
    };
    match death {
        Death::ExitCode => return ExitCode::from(3),
        Death::Panic => panic!("no price for ACME in the feed"),
        // A panic unwinds its own thread only; join() hands it to the main thread.
        Death::PanicInThread => {
            let _ = std::thread::spawn(|| panic!("no price for ACME in the feed")).join();
        }
        Death::Abort => std::process::abort(),
        Death::Segfault => segfault(),
        // A fault on any thread ends the whole process: threads share one address space.
        Death::SegfaultInThread => {
            let _ = std::thread::spawn(segfault).join();
        }
        Death::KilledByParent => std::thread::sleep(std::time::Duration::from_secs(10)),
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: die

/// The panic message, if the worker printed one: its line after "panicked at".
fn last_words(stderr: &str) -> String {
    let mut after = stderr.lines().skip_while(|line| !line.contains("panicked at")).skip(1);
    after.next().unwrap_or("(nothing)").to_string()
}

fn signal_name(signal: i32) -> &'static str {
    let names =
        [(libc::SIGABRT, "SIGABRT"), (libc::SIGKILL, "SIGKILL"), (libc::SIGSEGV, "SIGSEGV")];
    names.iter().find(|(number, _)| *number == signal).map_or("another signal", |(_, name)| name)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
