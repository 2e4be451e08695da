//! When `main` returns, every thread ends with it: a detached thread's work is lost unless joined.
//!
//!     cargo run --release -p ch03 --bin main_returns -- --delay-ms 500

use std::process::{ExitCode, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::report::{metric, verdict};

/// Run a child process whose `main` returns while a thread is still busy.
#[derive(clap::Parser)]
pub struct Args {
    /// How long the child's thread works before it prints, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    delay_ms: u64,
    /// The child's part: `detached` or `joined` (the parent passes it).
    #[arg(long, hide = true, value_parser = ["detached", "joined"])]
    child: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    if let Some(how) = &args.child {
        return child(how, Duration::from_millis(args.delay_ms));
    }
    let [(ok_lost, saved_lost, lost_ms), (ok_kept, saved_kept, kept_ms)] = ["detached", "joined"]
        .map(|how| {
            let (status, printed, took_ms) = run_child(how, args.delay_ms);
            println!("child with a {how} thread: exited in {took_ms:.0} ms ({status}), printed:");
            printed.lines().for_each(|line| println!("    {line}"));
            metric(&format!("{how}_ms"), took_ms, "ms");
            (status.success(), printed.contains("report saved"), took_ms)
        });
    let delay = args.delay_ms as f64;
    verdict(
        "returning from main ends the process and its detached threads; joining them keeps their work",
        ok_lost && ok_kept && !saved_lost && lost_ms < delay && saved_kept && kept_ms >= delay,
        &format!(
            "detached: exited after {lost_ms:.0} ms of a {delay:.0} ms job, report lost; joined: {kept_ms:.0} ms, report saved"
        ),
    )
}

// ANCHOR: parent
/// The parent's part: run this same program again, told by a flag to play the
/// child, wait for it to exit, and return its status, what it printed, and
/// how long it took.
fn run_child(how: &str, delay_ms: u64) -> (ExitStatus, String, f64) {
    let start = Instant::now();
    let output = support::child::command("main_returns")
        .args(["--child", how, "--delay-ms", &delay_ms.to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("run the child");
    let took_ms = start.elapsed().as_secs_f64() * 1e3;
    (output.status, String::from_utf8_lossy(&output.stdout).into_owned(), took_ms)
}
// ANCHOR_END: parent

// ANCHOR: child
/// The child's part: start a thread that saves a report after a delay, then
/// return from `main`, having joined it or not.
fn child(how: &str, delay: Duration) -> ExitCode {
    let saver = thread::spawn(move || {
        thread::sleep(delay); // Stands in for slow work: rendering, uploading.
        println!("report saved");
    });
    if how == "joined" {
        saver.join().unwrap();
    }
    println!("main returns");
    // Returning from main calls exit(), which ends every thread of the process.
    ExitCode::SUCCESS
}
// ANCHOR_END: child

fn main() -> ExitCode {
    run(support::cli::parse())
}
