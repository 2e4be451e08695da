"""CPU-bound Python scales with cores in processes, not in threads; a process starts 10x slower.

    cargo xtask python ch04/py_processes -- --jobs 10 --limit 100000
"""

import multiprocessing
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

import workbook


def count_primes(limit):
    """Counts the primes below `limit` by trial division: pure CPU, pure Python."""
    count = 0
    for n in range(2, limit):
        divisor = 2
        while divisor * divisor <= n:
            if n % divisor == 0:
                break
            divisor += 1
        else:
            count += 1
    return count


# ANCHOR: ways
def one_after_another(limits, workers):
    return [count_primes(limit) for limit in limits]


def in_threads(limits, workers):
    """One thread per job, as the article does: they share one GIL."""
    with ThreadPoolExecutor(max_workers=len(limits)) as pool:
        return list(pool.map(count_primes, limits))


def in_pool(limits, workers, method):
    """A multiprocessing.Pool of one process per core: each has its own
    interpreter and its own GIL; jobs and answers cross as pickles."""
    with multiprocessing.get_context(method).Pool(processes=workers) as pool:
        # One job a chunk: the jobs are few and long, so they share out evenly.
        return pool.map(count_primes, limits, chunksize=1)


def in_executor(limits, workers):
    """The same with concurrent.futures, on the platform's default start method."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(count_primes, limits))
# ANCHOR_END: ways


def start_cost_us(make, samples):
    """The best and median µs to start one trivial worker and wait for it to end: a process or a thread."""
    times = []
    for worker in (make() for _ in range(samples)):
        started = time.perf_counter()
        worker.start()
        worker.join()
        times.append((time.perf_counter() - started) * 1e6)
    return min(times), statistics.median(times)


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--jobs", int, 10, 1, 64, "how many jobs, each counting primes below --limit")
        .flag("--limit", int, 100_000, 1_000, 10_000_000, "each job counts the primes below this number")
        .flag("--repeats", int, 3, 1, 20, "repetitions of each way, taking turns; speed-ups compare the best")
        .flag("--samples", int, 20, 1, 1000, "processes and threads started one at a time, to time a start")
        .parse()
    )
    cores = workbook.cores_available()
    limits, workers = [args.limit] * args.jobs, min(cores, args.jobs)
    ways = [
        ("one after another", "sequential", one_after_another),
        (f"{args.jobs} threads", "threads", in_threads),
        (f"Pool of {workers}, fork", "fork", partial(in_pool, method="fork")),
        (f"Pool of {workers}, spawn", "spawn", partial(in_pool, method="spawn")),
        (f"ProcessPoolExecutor of {workers} ({multiprocessing.get_start_method()})", "executor", in_executor),
    ]
    runs, answers = {name: [] for _, name, _ in ways}, set()
    for _ in range(args.repeats):  # The ways take turns: a busy moment hits all of them.
        for _, name, way in ways:  # Each run: its wall ms, and the cores it kept busy (CPU over wall).
            started, cpu = time.perf_counter(), workbook.cpu_seconds()
            answers.add(tuple(way(limits, workers)))
            elapsed = time.perf_counter() - started
            runs[name].append((elapsed * 1e3, (workbook.cpu_seconds() - cpu) / elapsed))
    wall = {name: min(r)[0] for name, r in runs.items()}  # The best: other programs only slow a run down.
    used = {name: min(r)[1] for name, r in runs.items()}  # The cores that best run kept busy.
    speedup = {name: wall["sequential"] / wall[name] for name in wall}

    table = workbook.Table("way", "best", "median", "speed-up (best)", "cores used")
    for label, name, _ in ways:
        median = statistics.median(w for w, _ in runs[name])
        table.row(label, f"{wall[name]:.0f} ms", f"{median:.0f} ms", f"{speedup[name]:.2f}x", f"{used[name]:.2f}")
        workbook.metric(f"{name}_ms", wall[name], "ms")
        workbook.metric(f"cores_used_{name}", used[name], "cores")
        if name != "sequential":
            workbook.metric(f"{name}_speedup", speedup[name], "x")
    table.print()
    print(f"{args.jobs} jobs, each counting the primes below {args.limit} ({next(iter(answers))[0]}); "
          f"best of {args.repeats} on {cores} core(s), {workbook.interpreter()}\n")

    # The start of one worker, waited for: fork copies this process, spawn
    # starts a fresh interpreter that imports this file; a thread shares all.
    starts = {
        "fork": start_cost_us(lambda: multiprocessing.get_context("fork").Process(target=int), args.samples),
        "spawn": start_cost_us(lambda: multiprocessing.get_context("spawn").Process(target=int), args.samples),
        "thread": start_cost_us(lambda: threading.Thread(target=int), args.samples * 10),
    }
    table = workbook.Table("start and wait for", "best", "median", "vs a thread")
    for name, (fastest, median) in starts.items():
        label = "a thread" if name == "thread" else f"a process, {name}"
        table.row(label, f"{fastest:.0f} µs", f"{median:.0f} µs", f"{fastest / starts['thread'][0]:.0f}x")
        workbook.metric(f"{name}_start_us", fastest, "µs")
    table.print()
    processes = ("fork", "spawn", "executor")
    fastest = max(speedup[name] for name in processes)
    evidence = ", ".join(f"{name} {speedup[name]:.2f}x on {used[name]:.2f} cores" for name in ("threads", *processes))
    evidence += "; a start: " + ", ".join(f"{name} {starts[name][0]:.0f} µs" for name in starts)
    claim = "CPU-bound Python scales with the cores in processes, not in threads; a process costs 10x a thread to start"
    if len(answers) != 1:
        return workbook.verdict(claim, False, f"the ways disagree: {sorted(answers)}")
    if wall["sequential"] < 20 * starts["fork"][0] / 1e3:
        return workbook.unchecked(claim, f"the jobs are too short to pay for starting processes: {evidence}")
    if workers < 2:
        return workbook.skipped(claim, f"one core or one job, nothing to scale on: {evidence}")
    # With the GIL, threads never keep more than one core busy (a burst of load on the sequential run
    # can flatter their speed-up, not their cores). Processes must scale, unless denied a second core.
    if fastest < 1.3 and max(used[name] for name in processes) < 1.3:
        return workbook.skipped(claim, f"other programs held the cores, the processes got no second one: {evidence}")
    scale = used["threads"] < 1.2 and fastest >= 1.3
    holds = scale and min(starts["fork"][0], starts["spawn"][0]) > 10 * starts["thread"][0]
    return workbook.verdict(claim, holds, evidence)


if __name__ == "__main__":
    raise SystemExit(main())
