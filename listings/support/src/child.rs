//! A listing that needs a second process runs itself again: one convention
//! for every chapter, and a guard that ends the child on every exit path.
//!
//! The child is this very program (`/proc/self/exe`), with the listing's
//! name as `argv[0]` and the listing's own flags. Run alone, a listing's
//! binary is named after it anyway; run inside its chapter's tour, which
//! holds every listing of the chapter, `argv[0]` tells the tour which
//! listing the child belongs to (`support::tour::main`). The listing tells
//! its child's part from its parent's by a flag of its own (`--worker`).
//!
//! ```no_run
//! use std::process::Stdio;
//!
//! let child = support::child::command("crash_isolation")
//!     .args(["--worker", "panic"])
//!     .stdout(Stdio::null())
//!     .spawn()
//!     .expect("start a worker");
//! let child = support::child::Reaped(child); // killed and reaped however we leave
//! ```

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

/// This program again, as the child of the listing called `listing`.
///
/// `/proc/self/exe` is the running file even if a rebuild has replaced it on
/// disk meanwhile; `std::env::current_exe()` is the portable spelling.
pub fn command(listing: &str) -> Command {
    let mut command = Command::new("/proc/self/exe");
    command.arg0(listing);
    command
}

/// A child process that is killed and reaped when this value is dropped:
/// on return, on `?`, and when a panic unwinds past it. (An abort or a
/// `SIGKILL` skips destructors; `PR_SET_PDEATHSIG` in the child covers those.)
///
/// ```
/// use std::process::Command;
///
/// let sleeper = Command::new("sleep").arg("60").spawn().unwrap();
/// let pid = sleeper.id();
/// drop(support::child::Reaped(sleeper));
/// // Reaped: no zombie is left behind.
/// assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
/// ```
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
