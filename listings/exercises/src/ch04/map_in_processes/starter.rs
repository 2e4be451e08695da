//! Map in processes: a tiny pool of worker processes that keeps the order of its inputs.

use std::io;

/// Runs `command` (program, then arguments) as `workers` worker processes,
/// sends each of `inputs` to one of them as a line on its stdin, reads one
/// line back from its stdout as the output, and returns the outputs in the
/// order of the inputs.
///
/// Use at most `workers` processes, and no more than there are inputs. A
/// worker that ends before it has answered all its inputs is an error, not a
/// hang. Every process started must be waited for before returning, on the
/// error paths too.
///
/// Hints: `Command::new(program).args(args).stdin(Stdio::piped()).stdout(Stdio::piped())`;
/// give each worker a share of the inputs with their indexes, and one thread
/// (`std::thread::scope`) to write a line and read a line for each; a
/// `read_line` that returns 0 means the worker has gone. A struct whose `Drop`
/// kills and waits for the child covers the error paths.
#[allow(unused_variables)]
pub fn map_in_processes(
    command: &[&str],
    inputs: &[&str],
    workers: usize,
) -> io::Result<Vec<String>> {
    todo!("start the workers, feed them the inputs, put the answers back in order")
}
