//! A CPU-bound job: threads and spawn_blocking use the cores as processes do; in sequence, one.
//!
//!     cargo run --release -p ch08 --bin cpu_every_model -- --jobs 10 --exponent 200000

use std::process::{ExitCode, Stdio};
use std::thread;
use std::time::Instant;

use num_bigint::BigUint;
use support::child::Reaped;
use support::report::{Table, figure, verdict};
use support::timing::{children_cpu_time, cpu_time, summarize};
use tokio::task::JoinSet;

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
    BigUint::from(7777u32).pow(exponent).bits()
}
// ANCHOR_END: job

pub fn run(args: Args) -> ExitCode {
    if args.worker {
        println!("{}", power_job(args.exponent));
        return ExitCode::SUCCESS;
    }
    let (jobs, exponent) = (args.jobs as usize, args.exponent);
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    // A tokio runtime's blocking pool starts threads on demand, up to 512 by default.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");

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
    // A CPU-bound job must not run on the event loop's threads: tokio hands
    // it to its blocking pool, as asyncio's run_in_executor would.
    let tasks = || {
        runtime.block_on(async {
            let mut spawned = JoinSet::new();
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
    // them. Cores used: CPU time (this process and its reaped children) / wall time.
    let cpu_seconds = || (cpu_time() + children_cpu_time()).as_secs_f64();
    let (mut walls, mut used, mut right) = (vec![vec![]; 4], vec![vec![]; 4], true);
    let mut run_once = |i: usize, walls: &mut Vec<Vec<f64>>, used: &mut Vec<Vec<f64>>| {
        let (started, cpu) = (Instant::now(), cpu_seconds());
        right &= (models[i].2)() == expected;
        let wall = started.elapsed().as_secs_f64();
        walls[i].push(wall);
        used[i].push((cpu_seconds() - cpu) / wall);
    };
    for _round in 0..args.rounds {
        (0..4).for_each(|i| run_once(i, &mut walls, &mut used));
    }
    // Cores used, not wall time, carries the verdict: other programs slow every model down,
    // but cannot make one thread use two cores. A GIL would cap threads at one core. So when
    // processes found a second core free in some round, threads and spawn_blocking must find
    // one too; as other programs come and go, they get up to ten more rounds to do it.
    let best = |u: &Vec<f64>| summarize(u).max;
    let spare_core = best(&used[2]) >= 1.5;
    for _extra in 0..10 {
        if !spare_core || best(&used[1]) >= 1.1 && best(&used[3]) >= 1.1 {
            break;
        }
        [1, 3].into_iter().for_each(|i| run_once(i, &mut walls, &mut used));
    }
    // Wall time: the median round. Cores used: the best, the round least disturbed by others.
    let walls: Vec<f64> = walls.iter().map(|w| summarize(w).median).collect();
    let used: Vec<f64> = used.iter().map(best).collect();
    let mut table = Table::new(["model", "how", "wall (s)", "speed-up", "cores used (best)"]);
    for (i, (name, how, _)) in models.iter().enumerate() {
        let wall = figure(&format!("{name}_s"), walls[i], "s");
        let cores_used = figure(&format!("{name}_cores_used"), used[i], "cores");
        let speedup = walls[0] / wall.value;
        table.cells(&format!("{name}|{how}|{wall:#.2}|{speedup:.2}x|{cores_used:#.2}"));
    }
    table.print();
    let cores = figure("cores", cores as f64, "cores");
    println!("{jobs} jobs of 7777^{exponent}; median of {} rounds; {cores}", args.rounds);
    figure("job_ms", walls[0] / jobs as f64 * 1e3, "ms");
    if !spare_core {
        println!("processes found no second core free: {cores}, or other programs had them");
    }
    verdict(
        "threads and spawn_blocking use a second core whenever processes can",
        right && claim_holds(used[0], used[1], used[2], used[3]),
        &format!(
            "cores used: sequential {:.2}, threads {:.2}, processes {:.2}, async {:.2}",
            used[0], used[1], used[2], used[3]
        ),
    )
}

// ANCHOR: worker
/// Starts this program again as a worker for one job: with `--worker`, its
/// `run` prints `power_job(exponent)` and exits.
fn start_worker(exponent: u32) -> Reaped {
    // This program again, as a worker: support::child has the convention.
    let mut command = support::child::command("cpu_every_model");
    command.args(["--worker", "--exponent", &exponent.to_string()]).stdout(Stdio::piped());
    Reaped(command.spawn().expect("start a worker process"))
}

/// A worker's answer: the number it prints before it exits, read from the pipe to its end.
fn answer(mut worker: Reaped) -> u64 {
    let stdout = worker.0.stdout.take().expect("piped");
    serde_json::from_reader(stdout).expect("a worker's number of bits")
}
// ANCHOR_END: worker

#[allow(dead_code)] // the tour calls `run` and never `main`
fn main() -> ExitCode {
    run(support::cli::parse())
}

/// The claim, from each model's cores used (its best round): sequential uses one; threads and
/// spawn_blocking use a second core whenever processes found one free (1.5 cores or more). On
/// one core, or with other programs on the cores, there was none. Tests: `ch08/tests/claims.rs`.
pub fn claim_holds(sequential: f64, threads: f64, processes: f64, spawn_blocking: f64) -> bool {
    let spare_core = processes >= 1.5;
    sequential < 1.1 && (!spare_core || threads >= 1.1 && spawn_blocking >= 1.1)
}
