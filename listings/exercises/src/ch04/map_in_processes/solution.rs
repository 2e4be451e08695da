//! Map in processes: a tiny pool of worker processes that keeps the order of its inputs.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::process::{Child, Command, Stdio};
use std::thread;

/// Runs `command` (program, then arguments) as `workers` worker processes,
/// sends each of `inputs` to one of them as a line on its stdin, reads one
/// line back from its stdout as the output, and returns the outputs in the
/// order of the inputs.
///
/// Use at most `workers` processes, and no more than there are inputs. A
/// worker that ends before it has answered all its inputs is an error, not a
/// hang. Every process started must be waited for before returning, on the
/// error paths too.
pub fn map_in_processes(
    command: &[&str],
    inputs: &[&str],
    workers: usize,
) -> io::Result<Vec<String>> {
    let workers = workers.max(1).min(inputs.len());
    // Worker w gets inputs w, w + workers, w + 2 x workers...: each keeps its
    // indexes, so the answers can be put back in order whatever finishes first.
    let shares: Vec<Vec<(usize, &str)>> = (0..workers)
        .map(|w| inputs.iter().copied().enumerate().skip(w).step_by(workers).collect())
        .collect();
    let answered: Vec<io::Result<Vec<(usize, String)>>> = thread::scope(|s| {
        let handles: Vec<_> =
            shares.iter().map(|share| s.spawn(move || run_worker(command, share))).collect();
        handles.into_iter().map(|h| h.join().expect("a worker thread")).collect()
    });
    let mut outputs = vec![String::new(); inputs.len()];
    for share in answered {
        for (index, output) in share? {
            outputs[index] = output;
        }
    }
    Ok(outputs)
}

/// One worker process, fed its share of the inputs one line at a time.
fn run_worker(command: &[&str], share: &[(usize, &str)]) -> io::Result<Vec<(usize, String)>> {
    let (program, args) = command.split_first().ok_or(ErrorKind::InvalidInput)?;
    let child =
        Command::new(program).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    let mut worker = Reaped(child);
    let mut stdin = worker.0.stdin.take().expect("piped");
    let mut stdout = BufReader::new(worker.0.stdout.take().expect("piped"));
    let mut answers = Vec::new();
    for &(index, input) in share {
        writeln!(stdin, "{input}")?;
        stdin.flush()?;
        let mut line = String::new();
        if stdout.read_line(&mut line)? == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        answers.push((index, line.trim_end_matches('\n').to_string()));
    }
    drop(stdin); // The end of its input: the worker's loop ends.
    worker.0.wait()?;
    Ok(answers)
}

/// Kills and reaps the process on drop: no exit path leaves it running.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
