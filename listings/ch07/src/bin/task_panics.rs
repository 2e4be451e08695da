//! A panicking task ends alone; awaited, its JoinError has the message; detached, only stderr does.
//!
//!     cargo run --release -p ch07 --bin task_panics -- --symbols ACME,GLOBEX,N/A,INITECH,UMBRELLA

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::report::{Table, figure, unchecked, verdict};

/// Quote each symbol in a tokio task; one quote is not a number. Awaited, then detached.
#[derive(clap::Parser)]
pub struct Args {
    /// Symbols to quote, one task each; `N/A` gets a quote that is not a number.
    #[arg(long, default_value = "ACME,GLOBEX,N/A,INITECH,UMBRELLA", value_delimiter = ',')]
    symbols: Vec<String>,
    /// Run as the child that awaits its tasks or detaches them (used by the listing itself).
    #[arg(long, hide = true)]
    child: Option<String>,
}

// ANCHOR: quote
/// Parses the quote the (simulated) API sent for `symbol`. `expect` panics on
/// one that is not a number: the task unwinds and ends, its worker goes on.
async fn fetch_quote(symbol: String, saved: Arc<AtomicUsize>) -> f64 {
    tokio::task::yield_now().await; // Stands in for the network call.
    let raw = if symbol == "N/A" { "n/a".into() } else { format!("{}.25", 100 + symbol.len()) };
    let price: f64 = raw.parse().expect("the API sent a price");
    saved.fetch_add(1, Ordering::Relaxed);
    price
}
// ANCHOR_END: quote

// ANCHOR: child
/// The child: runs the tasks on a two-worker runtime, awaited or detached,
/// and prints how many quotes were saved and how many panics it saw.
fn child(symbols: Vec<String>, awaited: bool) -> ExitCode {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build();
    let runtime = runtime.expect("build the runtime");
    let saved = Arc::new(AtomicUsize::new(0));
    let mut caught = 0;
    runtime.block_on(async {
        let spawn = |symbol: &String| tokio::spawn(fetch_quote(symbol.clone(), saved.clone()));
        // ANCHOR_END: child
        if awaited {
            // ANCHOR: awaited
            let tasks: Vec<_> = symbols.iter().map(|symbol| (symbol, spawn(symbol))).collect();
            for (symbol, task) in tasks {
                match task.await {
                    Ok(price) => println!("{symbol:>8}: {price:.2}"),
                    // The runtime caught the panic; the JoinError carries its payload,
                    // a String for `expect`, as a thread's join does.
                    Err(error) if error.is_panic() => {
                        let payload = error.into_panic();
                        let message = payload.downcast_ref::<String>().map_or("?", |m| m);
                        println!("{symbol:>8}: the task panicked: {message}");
                        caught += 1;
                    }
                    Err(error) => println!("{symbol:>8}: {error}"), // Cancelled: not here.
                }
            }
            // ANCHOR_END: awaited
        } else {
            // ANCHOR: detached
            // Fire and forget: each JoinHandle is dropped at once, so no code of
            // this program will ever hold the panic. The task still runs.
            for symbol in &symbols {
                drop(spawn(symbol));
            }
            // No handle to await: wait (at most 5 s) until the runtime has no task alive.
            let metrics = tokio::runtime::Handle::current().metrics();
            let started = Instant::now();
            while metrics.num_alive_tasks() > 0 && started.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // ANCHOR_END: detached
        }
    });
    let saved = saved.load(Ordering::Relaxed);
    println!("main returns 0; saved {saved} quotes; caught {caught} panic(s)");
    ExitCode::SUCCESS
}

// ANCHOR: case
/// One case in a child process, which ends by itself: its stdout, stderr and exit code.
fn run_case(symbols: &[String], case: &str) -> (String, String, i32) {
    let mut command = support::child::command("task_panics");
    command.arg("--symbols").arg(symbols.join(",")).args(["--child", case]);
    // The default panic hook's own message, without a backtrace.
    command.env_remove("RUST_BACKTRACE").env_remove("RUST_LIB_BACKTRACE");
    let done = command.output().expect("run the child");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (text(&done.stdout), text(&done.stderr), done.status.code().unwrap_or(-1))
}
// ANCHOR_END: case

pub fn run(args: Args) -> ExitCode {
    if let Some(case) = args.child.as_deref() {
        return child(args.symbols, case == "awaited");
    }
    let claim = "a panicking task ends alone; awaited, its JoinError has the message; detached, only stderr does";
    let bad = args.symbols.iter().filter(|s| *s == "N/A").count();
    if bad == 0 {
        return unchecked(claim, "no symbol was N/A, so no task panicked");
    }
    let (all, good) = (args.symbols.len(), args.symbols.len() - bad);
    let mut table =
        Table::new(["JoinHandle", "quotes saved", "panics caught", "panics on stderr", "exit"]);
    let mut holds = true;
    for case in ["awaited", "detached"] {
        let (stdout, stderr, code) = run_case(&args.symbols, case);
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            println!("{case}, the child's {stream}:");
            text.lines().filter(|l| !l.is_empty()).for_each(|line| println!("  {line}"));
        }
        let counts = stdout.lines().last().unwrap_or("").split_whitespace();
        let counts: Vec<f64> = counts.filter_map(|word| word.parse().ok()).collect();
        let [saved, caught] = counts[..] else { panic!("the child's last line has two counts") };
        let saved = figure(&format!("{case}_saved"), saved, "");
        let caught = figure(&format!("{case}_caught"), caught, "");
        let hooked =
            stderr.lines().filter(|l| l.starts_with("thread '") && l.contains(" panicked at "));
        let hooked = figure(&format!("{case}_stderr_panics"), hooked.count() as f64, "");
        table.cells(&format!("{case}|{saved} of {all}|{caught}|{hooked}|{code}"));
        let expected_caught = if case == "awaited" { bad } else { 0 };
        holds &= saved.value == good as f64 && caught.value == expected_caught as f64;
        holds &= hooked.value == bad as f64 && code == 0;
    }
    table.print();
    let evidence = format!(
        "{good} of {all} saved in both cases; {bad} panic(s) caught if awaited, 0 if detached, both on stderr"
    );
    verdict(claim, holds, &evidence)
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
