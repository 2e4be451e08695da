"""Under the GIL, threads, gevent and asyncio's default executor use one core; processes use more.

    cargo xtask python ch08/py_cpu_every_model -- --jobs 10 --exponent 200000 --rounds 2
"""

import asyncio
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import gevent

import workbook


# ANCHOR: job
def power_job(exponent):
    """The CPU-bound job: 7777 to the power `exponent`. It returns the result's size in
    bits, so every model can be checked. One `**` is one bytecode: it holds the GIL throughout."""
    return (7777**exponent).bit_length()
# ANCHOR_END: job


# ANCHOR: models
def sequential(jobs, exponent):
    return [power_job(exponent) for _ in range(jobs)]


def threads(jobs, exponent):
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # One thread per job.
        return list(pool.map(power_job, [exponent] * jobs))


def processes(jobs, exponent):
    # One worker process per CPU, the default; each dies with this program, however it ends.
    with ProcessPoolExecutor(initializer=workbook.die_with_parent) as pool:
        return list(pool.map(power_job, [exponent] * jobs))


def greenlets(jobs, exponent):
    # A greenlet gives way only when it waits; this job never waits, so each runs to its end.
    spawned = [gevent.spawn(power_job, exponent) for _ in range(jobs)]
    gevent.joinall(spawned, raise_error=True)
    return [greenlet.value for greenlet in spawned]


async def in_executor(jobs, exponent, executor=None):
    """CPU-bound work must not run on the event loop: each job goes to an executor."""
    loop = asyncio.get_running_loop()
    return await asyncio.gather(*(loop.run_in_executor(executor, power_job, exponent) for _ in range(jobs)))


def asyncio_threads(jobs, exponent):
    return asyncio.run(in_executor(jobs, exponent))  # None: the loop's default ThreadPoolExecutor.


def asyncio_processes(jobs, exponent):
    with ProcessPoolExecutor(initializer=workbook.die_with_parent) as pool:
        return asyncio.run(in_executor(jobs, exponent, pool))
# ANCHOR_END: models


# name (as in the Rust listing where it has the model), how, the model, the article's seconds
MODELS = [
    ("sequential", "one after another", sequential, "2.18"),
    ("threads", "ThreadPoolExecutor", threads, "2.47"),
    ("processes", "ProcessPoolExecutor", processes, "1.12"),
    ("gevent", "one greenlet per job", greenlets, "2.23"),
    ("async", "asyncio, default executor", asyncio_threads, "2.23"),
    ("async_processes", "asyncio, ProcessPoolExecutor", asyncio_processes, "-"),
]
ONE_CORE, PROCESS_BASED = ("sequential", "threads", "gevent", "async"), ("processes", "async_processes")


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--jobs", int, 10, 1, 64, "how many times the job runs")
        .flag("--exponent", int, 200_000, 1_000, 2_000_000, "the job computes 7777 to this power")
        .flag("--rounds", int, 2, 1, 20, "rounds of all six models, taking turns")
        .parse()
    )
    jobs, exponent, cores = args.jobs, args.exponent, workbook.cores_available()
    walls, used, answers = {m[0]: [] for m in MODELS}, {m[0]: [] for m in MODELS}, {}

    def run_once(name, model):
        started, cpu = time.perf_counter(), workbook.cpu_seconds()
        answers.setdefault(name, []).append(model(jobs, exponent))
        wall = time.perf_counter() - started
        walls[name].append(wall)
        used[name].append((workbook.cpu_seconds() - cpu) / wall)

    # The models take turns, round after round, so a busy moment on the machine hits all of them.
    for _ in range(args.rounds):
        for name, _how, model, _article in MODELS:
            run_once(name, model)

    # Cores used (CPU time / wall time), not wall time, carries the verdict: other programs slow every
    # model down, but cannot make a thread under the GIL use two cores. If other programs held the
    # second core, the process pools get up to five more rounds to find it free.
    def spread():  # Found a second core: processes used 1.5 cores or more; below 1.2 is one core.
        return max(used["processes"]) >= 1.5 and max(used["async_processes"]) >= 1.2

    for _ in range(5 if cores > 1 and jobs > 1 else 0):
        if spread():
            break
        for name, _how, model, _article in MODELS:
            if name in PROCESS_BASED:
                run_once(name, model)

    wall = {name: statistics.median(w) for name, w in walls.items()}
    best = {name: max(u) for name, u in used.items()}  # The closest to a quiet machine.
    table = workbook.Table("model", "how", "wall (s)", "speed-up", "cores used (best)", "article (s)")
    for name, how, _model, article in MODELS:
        table.row(name, how, f"{wall[name]:.2f}", f"{wall['sequential'] / wall[name]:.2f}x", f"{best[name]:.2f}", article)
        workbook.metric(f"{name}_s", wall[name], "s")
        workbook.metric(f"{name}_cores_used", best[name], "cores")
    table.print()
    extra = len(walls["processes"]) - args.rounds
    more = f" (+{extra} for the process pools)" if extra else ""
    print(f"{jobs} jobs of 7777^{exponent}; median of {args.rounds} rounds{more}; {cores} cores; {workbook.interpreter()}")
    print("article (s): a popular Python article reports these for 10 jobs on its author's machine")
    workbook.metric("cores", cores, "cores")
    workbook.metric("job_ms", wall["sequential"] / jobs * 1e3, "ms")

    expected = [power_job(exponent)] * jobs
    right = all(answer == expected for runs in answers.values() for answer in runs)
    one_core = all(best[name] < 1.2 for name in ONE_CORE)
    claim = "under the GIL, threads, gevent and asyncio's default executor use one core; processes use more"
    evidence = "cores used: " + ", ".join(f"{name} {best[name]:.2f}" for name in walls)
    if jobs == 1:
        return workbook.unchecked(claim, f"one job: nothing for processes to spread; {evidence}")
    if cores == 1:
        return workbook.skipped(claim, f"1 core available: nothing for processes to spread over; {evidence}")
    if max(used["processes"]) < 1.5:
        return workbook.skipped(claim, f"processes found no second core free: other programs had it; {evidence}")
    return workbook.verdict(claim, right and one_core and spread(), evidence)


if __name__ == "__main__":
    raise SystemExit(main())
