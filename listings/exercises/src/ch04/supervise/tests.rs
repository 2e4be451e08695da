use std::process::Command;

use crate::ch04::supervise::{Death, how_it_died, supervise};

fn sh(script: &str) -> Death {
    how_it_died(Command::new("sh").args(["-c", script]).status().unwrap())
}

fn check(script: &str, max_starts: usize, expected: &[Death]) {
    assert_eq!(supervise(&["sh", "-c", script], max_starts).unwrap(), expected);
}

#[test]
fn an_exit_code_is_an_exit_code() {
    assert_eq!(sh("exit 0"), Death::Exited(0));
    assert_eq!(sh("exit 3"), Death::Exited(3));
}

#[test]
fn a_signal_is_told_apart_from_an_exit_code() {
    assert_eq!(sh("kill -SEGV $$"), Death::Signaled(11));
    assert_eq!(sh("kill -ABRT $$"), Death::Signaled(6));
    assert_eq!(sh("kill -KILL $$"), Death::Signaled(9));
    // A shell's `exit 139` looks like "killed by signal 11" to a shell user
    // (128 + 11), but it is an exit code.
    assert_eq!(sh("exit 139"), Death::Exited(139));
}

#[test]
fn a_worker_that_succeeds_runs_once() {
    check("exit 0", 5, &[Death::Exited(0)]);
}

#[test]
fn a_failing_worker_is_restarted_until_the_starts_run_out() {
    check("exit 3", 3, &[Death::Exited(3); 3]);
    check("kill -SEGV $$", 2, &[Death::Signaled(11); 2]);
    check("exit 3", 0, &[]);
}

#[test]
fn a_worker_that_crashes_twice_then_succeeds_runs_three_times() {
    // The worker counts its runs in a file, and crashes on the first two.
    let counter =
        std::env::temp_dir().join(format!("workbook-ch04-supervise-{}", std::process::id()));
    let _ = std::fs::remove_file(&counter);
    let script = format!(
        "n=$(cat {path} 2>/dev/null || echo 0); echo $((n + 1)) > {path}; [ $n -ge 2 ] || kill -SEGV $$",
        path = counter.display()
    );
    let deaths = supervise(&["sh", "-c", &script], 10);
    let _ = std::fs::remove_file(&counter);
    let expected = [Death::Signaled(11), Death::Signaled(11), Death::Exited(0)];
    assert_eq!(deaths.unwrap(), expected);
}

#[test]
fn a_program_that_cannot_start_is_an_error() {
    assert!(supervise(&["no-such-worker-program"], 3).is_err());
}
