//! Supervise: restart a worker process until it succeeds, and say how each run ended.

use std::io::{self, ErrorKind};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};

/// How a process ended: with an exit code, or killed by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Death {
    /// It exited with this code (0 is success).
    Exited(i32),
    /// This signal ended it: 11 is SIGSEGV, 6 SIGABRT, 9 SIGKILL.
    Signaled(i32),
}

/// What the parent learns from a child's `ExitStatus`.
pub fn how_it_died(status: ExitStatus) -> Death {
    match (status.code(), status.signal()) {
        (Some(code), _) => Death::Exited(code),
        (None, Some(signal)) => Death::Signaled(signal),
        (None, None) => unreachable!("on Unix a process that ended has a code or a signal"),
    }
}

/// Runs `command` (program, then arguments) and waits for it; while it ends
/// any other way than exit code 0, starts it again, at most `max_starts`
/// times in all. Returns how each run ended, in order.
pub fn supervise(command: &[&str], max_starts: usize) -> io::Result<Vec<Death>> {
    let (program, args) = command.split_first().ok_or(ErrorKind::InvalidInput)?;
    let mut deaths = Vec::new();
    while deaths.len() < max_starts {
        let death = how_it_died(Command::new(program).args(args).status()?);
        deaths.push(death);
        if death == Death::Exited(0) {
            break;
        }
    }
    Ok(deaths)
}
