//! An open file cannot cross to a process as data: the number that crosses means nothing there.
//!
//!     cargo run --release -p ch04 --bin fd_across_processes

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::process::{ExitCode, Stdio};

/// Send an open file's descriptor to a worker process as data, then hand it the file itself.
#[derive(clap::Parser)]
pub struct Args {
    /// Run as a worker process instead (the listing starts itself this way).
    #[arg(long, hide = true)]
    worker: Option<Role>,
}

/// What a worker process does.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Role {
    /// Read a descriptor number from stdin as JSON, and try to read from it.
    Number,
    /// Read the first line of stdin, which the parent made the file itself.
    Inherited,
}

// ANCHOR: number
/// What the parent sends: all that serializing an open file could ever produce.
#[derive(serde::Serialize, serde::Deserialize)]
struct FileByNumber {
    fd: RawFd,
}

/// Sends a worker `file`'s descriptor number as JSON: the message, and what the worker made of it.
fn send_number(file: &File) -> (String, (String, bool)) {
    // `File` is not `Serialize`: serde has no way to encode an open file. The
    // most a message can carry is the number, and the worker's table is its own.
    let message = serde_json::to_string(&FileByNumber { fd: file.as_raw_fd() }).expect("encode");
    let mut worker = start("number", Stdio::piped());
    writeln!(worker.0.stdin.take().expect("piped"), "{message}").expect("send the number");
    (message, output_of(worker))
}
// ANCHOR_END: number

// ANCHOR: number_worker
/// The worker's side: a number from the parent, used as a descriptor here.
fn number_worker() -> ExitCode {
    let FileByNumber { fd } = serde_json::from_reader(std::io::stdin()).expect("a message");
    let mut buffer = [0u8; 64];
    // SAFETY: read(2) writes at most `buffer.len()` bytes into `buffer`; a bad fd is just an error.
    let n = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
    match n {
        -1 => println!("read(fd {fd}) failed: {}", std::io::Error::last_os_error()),
        n => println!("read(fd {fd}) gave {n} bytes"),
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: number_worker

// ANCHOR: inherited
/// Passing the file itself takes the kernel: at spawn, as the worker's stdin (a duplicate of the
/// descriptor becomes its fd 0); a running process can get one over a Unix socket (SCM_RIGHTS).
fn hand_over(file: File) -> (String, bool) {
    output_of(start("inherited", Stdio::from(file)))
}

/// This program again, as a worker in `role`, with `stdin` as its standard input.
fn start(role: &str, stdin: Stdio) -> support::child::Reaped {
    let mut command = support::child::command("fd_across_processes");
    command.args(["--worker", role]).stdin(stdin).stdout(Stdio::piped());
    support::child::Reaped(command.spawn().expect("start a worker process"))
}

/// The line the worker printed, and whether it exited successfully.
fn output_of(mut worker: support::child::Reaped) -> (String, bool) {
    let text = std::io::read_to_string(worker.0.stdout.take().expect("piped")).expect("read");
    let status = worker.0.wait().expect("wait for the worker");
    (text.trim_end().to_string(), status.success())
}

/// The worker's side: its stdin is the file.
fn inherited_worker() -> ExitCode {
    let first = std::io::stdin().lines().next();
    println!("read {:?}", first.and_then(Result::ok).unwrap_or_default());
    ExitCode::SUCCESS
}
// ANCHOR_END: inherited

pub fn run(args: Args) -> ExitCode {
    match args.worker {
        Some(Role::Number) => return number_worker(),
        Some(Role::Inherited) => return inherited_worker(),
        None => {}
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("ticks.csv");
    std::fs::write(&path, "ACME,101.50\nACME,101.75\n").expect("write the ticks");
    // ANCHOR: open
    // The kernel gives the open file a number N: an index into this process's own table of files.
    let file = File::open(&path).expect("open the ticks");
    let fd = file.as_raw_fd();
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).expect("our fd table");
    println!("parent: fd {fd} is {}", target.file_name().unwrap_or_default().display());
    // First the number, as data; then the file itself, as the worker's stdin.
    let (message, (by_number, number_status)) = send_number(&file);
    println!("worker, sent {message}: {by_number}");
    let (inherited, inherited_status) = hand_over(File::open(&path).expect("open the ticks"));
    println!("worker, given the file as stdin: {inherited}");
    // ANCHOR_END: open
    let exited_well = number_status && inherited_status;
    support::report::verdict(
        "a descriptor number means nothing in another process; the file must be handed over by the kernel",
        exited_well && by_number.contains("os error 9") && inherited == "read \"ACME,101.50\"",
        "the number gave EBADF, the inherited file gave its first line",
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
