//! A panic in a spawned thread ends that thread only; its message reaches the joiner as an `Err`.
//!
//!     cargo run --release -p ch03 --bin panic_at_join -- --symbols ACME,GLOBEX,N/A,INITECH

use std::process::ExitCode;
use std::thread;

use support::report::{figure, unchecked, verdict};

/// Parse quotes on one thread per symbol; one of them is not a number.
#[derive(clap::Parser)]
pub struct Args {
    /// Symbols to quote; `N/A` gets a quote that is not a number.
    #[arg(long, default_value = "ACME,GLOBEX,N/A,INITECH", value_delimiter = ',')]
    symbols: Vec<String>,
}

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: spawn_and_join
    // One thread per symbol parses the quote the (simulated) API sent back.
    // `expect` panics on a quote that is not a number: the thread unwinds and
    // ends, and the others carry on.
    let workers: Vec<_> = args
        .symbols
        .iter()
        .map(|symbol| {
            let raw = if symbol == "N/A" {
                "n/a".to_string()
            } else {
                format!("{}.25", 100 + symbol.len())
            };
            let name = format!("quote-{symbol}");
            let worker = thread::Builder::new()
                .name(name)
                .spawn(move || -> f64 { raw.parse().expect("the API sent a price") });
            (symbol, worker.expect("spawn a thread"))
        })
        .collect();
    // `join` returns a Result: Ok with the thread's value, or Err with the
    // panic's payload. It is #[must_use]: ignoring it is a compiler warning.
    let mut panics = Vec::new();
    for (symbol, worker) in workers {
        match worker.join() {
            Ok(price) => println!("{symbol:>8}: {price:.2}"),
            Err(payload) => {
                let message = panic_message(&*payload);
                println!("{symbol:>8}: the thread panicked: {message}");
                panics.push(message);
            }
        }
    }
    // ANCHOR_END: spawn_and_join

    let claim = "a panic in a thread comes back to its joiner as an Err with the message; the other threads finish";
    let expected = args.symbols.iter().filter(|s| *s == "N/A").count();
    if expected == 0 {
        return unchecked(claim, "no symbol was N/A, so no thread panicked");
    }
    let threads = figure("threads", args.symbols.len() as f64, "threads");
    let caught = figure("panics", panics.len() as f64, "");
    verdict(
        claim,
        panics.len() == expected && panics.iter().all(|m| m.starts_with("the API sent a price")),
        &format!("{caught} of {threads:#} threads panicked, their messages caught at join"),
    )
}

// ANCHOR: panic_message
/// The text of a panic payload: `panic!("literal")` carries a `&str`,
/// formatted panics (`expect`, `panic!("{x}")`) carry a `String`.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => text.to_string(),
        (_, Some(text)) => text.clone(),
        _ => "(a payload that is not text)".to_string(),
    }
}
// ANCHOR_END: panic_message

fn main() -> ExitCode {
    run(support::cli::parse())
}
