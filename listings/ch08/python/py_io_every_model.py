"""The concurrent models wait about one job's time, not the sum; asyncio is among the fastest.

    cargo xtask python ch08/py_io_every_model -- --jobs 10 --requests 4 --latency-ms 100
"""

import sys

# ANCHOR: patch
# gevent's model runs in a child process of this twin, so that patching stays out of the others.
if sys.argv[1:2] == ["--gevent-child"]:
    from gevent import monkey
    monkey.patch_all()  # First, before any other import takes a reference to the blocking socket.
# ANCHOR_END: patch

import asyncio  # noqa: E402 (after the patch, on purpose)
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: E402

import aiohttp  # noqa: E402
import gevent  # noqa: E402
import requests  # noqa: E402
import uvloop  # noqa: E402

import workbook  # noqa: E402


# ANCHOR: job
def io_job(base, pages):
    """The I/O-bound job: fetch `pages` pages one after another, blocking; the bytes received."""
    received = 0
    with requests.Session() as session:
        session.trust_env = False  # Loopback only: no proxy from the environment.
        for page in range(1, pages + 1):
            response = session.get(f"{base}/ticker/ACME?page={page}", timeout=30)
            response.raise_for_status()
            received += len(response.content)
    return received


async def async_job(session, pages):
    """The same job for an event loop: the same requests, each awaited."""
    received = 0
    for page in range(1, pages + 1):
        async with session.get(f"/ticker/ACME?page={page}") as response:
            response.raise_for_status()
            received += len(await response.read())
    return received
# ANCHOR_END: job


# ANCHOR: models
def sequential(base, jobs, pages):
    return [io_job(base, pages) for _ in range(jobs)]


def threads(base, jobs, pages):
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # One thread per job: they mostly wait.
        return list(pool.map(io_job, [base] * jobs, [pages] * jobs))


def processes(base, jobs, pages):
    # One process per job; each dies with this program, however it ends.
    with ProcessPoolExecutor(max_workers=jobs, initializer=workbook.die_with_parent) as pool:
        return list(pool.map(io_job, [base] * jobs, [pages] * jobs))


def greenlets(base, jobs, pages):
    """Run in a process where monkey.patch_all() made requests' sockets cooperative."""
    spawned = [gevent.spawn(io_job, base, pages) for _ in range(jobs)]
    gevent.joinall(spawned, raise_error=True)
    return [greenlet.value for greenlet in spawned]


async def tasks(base, jobs, pages):
    async with aiohttp.ClientSession(base) as session:  # One session, its connection pool shared.
        return await asyncio.gather(*(async_job(session, pages) for _ in range(jobs)))


def on_asyncio(base, jobs, pages):
    return asyncio.run(tasks(base, jobs, pages))


def on_uvloop(base, jobs, pages):
    return uvloop.run(tasks(base, jobs, pages))  # The same coroutines on libuv's faster event loop.
# ANCHOR_END: models


# name (as in the Rust listing where it has the model), how, the model, the article's seconds
MODELS = [
    ("sequential", "one after another", sequential, "31.4"),
    ("threads", "ThreadPoolExecutor, requests", threads, "7.9"),
    ("processes", "ProcessPoolExecutor, requests", processes, "7.22"),
    ("gevent", "greenlets, patched requests", greenlets, "6.85"),
    ("async", "asyncio, aiohttp", on_asyncio, "4.37"),
    ("async_uvloop", "uvloop, aiohttp", on_uvloop, "-"),
]


def main():
    if (child := workbook.child_args("--gevent-child")) is not None:  # A fresh, patched interpreter.
        started, got = time.perf_counter(), greenlets(child[0], *map(int, child[1:]))
        print(json.dumps([time.perf_counter() - started, got]))
        return 0
    args = (
        workbook.parser(__doc__)
        .flag("--jobs", int, 10, 1, 64, "how many times the job runs")
        .flag("--requests", int, 4, 1, 20, "each job fetches this many pages, one after another")
        .flag("--latency-ms", int, 100, 20, 1000, "the simulated API answers each request after this many ms")
        .flag("--rounds", int, 3, 1, 20, "rounds of all six models, taking turns").parse()
    )
    jobs, pages, latency = args.jobs, args.requests, args.latency_ms
    walls, received = {model[0]: [] for model in MODELS}, set()
    with workbook.latency_server(latency_ms=latency) as base:
        for _ in range(args.rounds):  # Taking turns: a busy moment on the machine hits every model.
            for name, _how, model, _article in MODELS:
                started = time.perf_counter()
                if model is greenlets:  # Timed by the child; it is killed if it takes far too long.
                    wall, got = workbook.run_child("--gevent-child", base, jobs, pages, timeout=jobs * pages * 3 + 30)
                else:
                    got, wall = model(base, jobs, pages), time.perf_counter() - started
                walls[name].append(wall)
                received.add(tuple(got))

    one_job = pages * latency / 1e3
    wall = {name: statistics.median(w) for name, w in walls.items()}
    table = workbook.Table("model", "how", "wall (s)", "in one job's waits", "article (s)")
    for name, how, _model, article in MODELS:
        table.row(name, how, f"{wall[name]:.2f}", f"{wall[name] / one_job:.1f}", article)
        workbook.metric(f"{name}_s", wall[name], "s")
    table.print()
    print(f"{jobs} jobs of {pages} requests at {latency} ms: one job waits {one_job:.2f} s; {args.rounds} rounds' median")
    print(f"{workbook.interpreter()}; article (s): a popular Python article's figures for 10 jobs of 4 URLs")
    workbook.metric("one_job_s", one_job, "s")

    # Overlapping the jobs makes each concurrent model several times faster (ideally `jobs` times).
    claim = "the concurrent models wait about one job's time, not the sum; asyncio is among the fastest"
    speedups = {name: wall["sequential"] / wall[name] for name in wall if name != "sequential"}
    evidence = "speed-ups over sequential: " + ", ".join(f"{name} {s:.1f}" for name, s in speedups.items())
    if jobs == 1:
        return workbook.unchecked(claim, f"one job: nothing to overlap; {evidence}")
    all_received = len(received) == 1 and min(next(iter(received))) > 0
    overlapped = wall["sequential"] >= 0.9 * jobs * one_job and all(s >= 0.4 * jobs for s in speedups.values())
    async_fast = min(wall["async"], wall["async_uvloop"]) <= 1.25 * min(wall[name] for name in speedups)
    return workbook.verdict(claim, all_received and overlapped and async_fast, evidence)


if __name__ == "__main__":
    raise SystemExit(main())
