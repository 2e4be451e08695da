//! Supervise: restart a worker process until it succeeds, and say how each run ended.

use std::io;
use std::process::ExitStatus;

/// How a process ended: with an exit code, or killed by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Death {
    /// It exited with this code (0 is success).
    Exited(i32),
    /// This signal ended it: 11 is SIGSEGV, 6 SIGABRT, 9 SIGKILL.
    Signaled(i32),
}

/// What the parent learns from a child's `ExitStatus`.
///
/// Hint: `status.code()`, and `status.signal()` from
/// `std::os::unix::process::ExitStatusExt`.
#[allow(unused_variables)]
pub fn how_it_died(status: ExitStatus) -> Death {
    todo!("an exit code, or the signal that ended it")
}

/// Runs `command` (program, then arguments) and waits for it; while it ends
/// any other way than exit code 0, starts it again, at most `max_starts`
/// times in all. Returns how each run ended, in order.
///
/// Hint: `Command::new(program).args(args).status()` starts the process and
/// waits for it; a program that cannot be started is an `Err`.
#[allow(unused_variables)]
pub fn supervise(command: &[&str], max_starts: usize) -> io::Result<Vec<Death>> {
    todo!("start, wait, record how it ended, and start again until it succeeds")
}
