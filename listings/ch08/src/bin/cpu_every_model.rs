//! A CPU-bound job: threads and spawn_blocking use the cores as processes do; in sequence, one.
//!
//!     cargo run --release -p ch08 --bin cpu_every_model -- --jobs 10 --exponent 200000

use std::process::{ExitCode, Stdio};
use std::thread;

use support::child::Reaped;
use support::report::{Table, figure, verdict};
use support::timing::{children_cpu_time, cpu_time, summarize};

/// Raise 7777 to a large power, `jobs` times, on each model in turn.
#[derive(clap::Parser)]
pub struct Args {
    /// How many times the job runs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// The job computes 7777 to this power.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u32).range(1_000..=2_000_000))]
    exponent: u32,
    /// Rounds of all four models, taking turns.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,
    /// Run as a worker process: one job, its answer on stdout.
    #[arg(long, hide = true)]
    worker: bool,
}

// ANCHOR: job
/// The CPU-bound job: 7777 to the power `exponent`, with num-bigint. It
/// returns the result's size in bits, so every model can be checked.
fn power_job(exponent: u32) -> u64 {
    num_bigint::BigUint::from(7777u32).pow(exponent).bits()
}
// ANCHOR_END: job

pub fn run(args: Args) -> ExitCode {
    // ANCHOR: worker_side
    // The worker's side: one job, its answer printed for the parent to read.
    if args.worker {
        println!("{}", power_job(args.exponent));
        return ExitCode::SUCCESS;
    }
    // ANCHOR_END: worker_side
    let (jobs, exponent) = (args.jobs as usize, args.exponent);

    // ANCHOR: models
    let sequential = || (0..jobs).map(|_| power_job(exponent)).sum();
    let threads = || {
        thread::scope(|s| {
            let handles: Vec<_> = (0..jobs).map(|_| s.spawn(|| power_job(exponent))).collect();
            handles.into_iter().map(|h| h.join().expect("a job")).sum()
        })
    };
    // Each process is this program again, with `--worker`; its answer comes through a pipe.
    let processes = || {
        let workers: Vec<Reaped> = (0..jobs).map(|_| start_worker(exponent)).collect();
        workers.into_iter().map(answer).sum()
    };
    // A CPU-bound job must not run on the event loop's threads: tokio hands it to its
    // blocking pool (threads started on demand, up to 512), as asyncio's run_in_executor would.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let tasks = || {
        runtime.block_on(async {
            let mut spawned = tokio::task::JoinSet::new();
            for _ in 0..jobs {
                spawned.spawn_blocking(move || power_job(exponent));
            }
            spawned.join_all().await.into_iter().sum()
        })
    };
    // ANCHOR_END: models

    let models: [(&str, &str, &dyn Fn() -> u64); 4] = [
        ("sequential", "one after another", &sequential),
        ("threads", "one thread per job", &threads),
        ("processes", "one process per job", &processes),
        ("async", "tokio, spawn_blocking", &tasks),
    ];
    let expected = jobs as u64 * power_job(exponent);
    // The models take turns, round after round, so a busy moment on the machine hits all of
    // them. Cores used (CPU time of this process and its reaped children / wall time, the best
    // round) carries the verdict: other programs slow every model down, but cannot make one
    // thread use two cores, as a GIL would. So when processes found a second core free, threads
    // and spawn_blocking get up to ten more rounds to find one too. Wall time: the median round.
    let cpu_seconds = || (cpu_time() + children_cpu_time()).as_secs_f64();
    let (mut walls, mut used, mut right) = (vec![vec![]; 4], [0.0f64; 4], true);
    for round in 0..args.rounds + 10 {
        let extra = round >= args.rounds;
        if extra && (used[2] < 1.5 || used[1] >= 1.1 && used[3] >= 1.1) {
            break;
        }
        for i in if extra { vec![1, 3] } else { vec![0, 1, 2, 3] } {
            let (started, cpu) = (std::time::Instant::now(), cpu_seconds());
            right &= (models[i].2)() == expected;
            let wall = started.elapsed().as_secs_f64();
            walls[i].push(wall);
            used[i] = used[i].max((cpu_seconds() - cpu) / wall);
        }
    }
    let sequential_s = summarize(&walls[0]).median;
    let mut table = Table::new(["model", "how", "wall (s)", "speed-up", "cores used (best)"]);
    let mut evidence = Vec::new();
    for (i, (name, how, _)) in models.iter().enumerate() {
        let wall = figure(&format!("{name}_s"), summarize(&walls[i]).median, "s");
        let cores_used = figure(&format!("{name}_cores_used"), used[i], "cores");
        let speedup = sequential_s / wall.value;
        table.cells(&format!("{name}|{how}|{wall:#.2}|{speedup:.2}x|{cores_used:#.2}"));
        evidence.push(format!("{name} {cores_used:#.2}"));
    }
    table.print();
    let cores =
        figure("cores", thread::available_parallelism().map_or(1, |n| n.get()) as f64, "cores");
    println!("{jobs} jobs of 7777^{exponent}; median of {} rounds; {cores}", args.rounds);
    figure("job_ms", sequential_s / jobs as f64 * 1e3, "ms");
    if used[2] < 1.5 {
        println!("processes found no second core free: {cores}, or other programs had them");
    }
    verdict(
        "threads and spawn_blocking use a second core whenever processes can",
        right && claim_holds(used[0], used[1], used[2], used[3]),
        &format!("cores used: {}", evidence.join(", ")),
    )
}

// ANCHOR: worker
/// Starts this program again as a worker for one job (support::child has the convention).
fn start_worker(exponent: u32) -> Reaped {
    let mut command = support::child::command("cpu_every_model");
    command.args(["--worker", "--exponent", &exponent.to_string()]).stdout(Stdio::piped());
    Reaped(command.spawn().expect("start a worker process"))
}

/// A worker's answer: the number it prints before it exits, read from the pipe to its end.
fn answer(mut worker: Reaped) -> u64 {
    serde_json::from_reader(worker.0.stdout.take().expect("piped")).expect("a worker's bits")
}
// ANCHOR_END: worker

fn main() -> ExitCode {
    run(support::cli::parse())
}

/// The claim, from each model's best cores used: sequential uses one; threads and spawn_blocking
/// use a second core whenever processes found one (1.5 or more). Tests: `ch08/tests/claims.rs`.
pub fn claim_holds(sequential: f64, threads: f64, processes: f64, spawn_blocking: f64) -> bool {
    let spare_core = processes >= 1.5;
    sequential < 1.1 && (!spare_core || threads >= 1.1 && spawn_blocking >= 1.1)
}
