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
import ctypes  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
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
    with ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent) as pool:
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


def die_with(parent):
    """First thing in a child: the kernel kills it when `parent` dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # It died before the line above.
        os._exit(1)


def die_with_parent():
    """A pool worker's initializer. A forkserver's workers are its children, and die with it."""
    forkserver = multiprocessing.get_start_method() == "forkserver"
    die_with(os.getppid() if forkserver else multiprocessing.parent_process().pid)


def timed(model, *args):
    started = time.perf_counter()
    received = model(*args)
    return time.perf_counter() - started, received


def in_gevent_child(base, jobs, pages):
    """Runs `greenlets` in a fresh, patched interpreter, which times itself."""
    command = [sys.executable, __file__, "--gevent-child", str(os.getpid()), base, str(jobs), str(pages)]
    limit = jobs * pages * 3 + 30  # Generous: the child is killed past it.
    done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=True)
    return json.loads(done.stdout)


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
    if sys.argv[1:2] == ["--gevent-child"]:
        die_with(int(sys.argv[2]))
        print(json.dumps(timed(greenlets, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
        return 0
    args = (
        workbook.parser(__doc__)
        .flag("--jobs", int, 10, 1, 64, "how many times the job runs")
        .flag("--requests", int, 4, 1, 20, "each job fetches this many pages, one after another")
        .flag("--latency-ms", int, 100, 20, 1000, "the simulated API answers each request after this many ms")
        .flag("--rounds", int, 3, 1, 20, "rounds of all six models, taking turns")
        .parse()
    )
    jobs, pages, latency = args.jobs, args.requests, args.latency_ms
    walls, received = {model[0]: [] for model in MODELS}, set()
    with workbook.latency_server(latency_ms=latency) as base:
        for _ in range(args.rounds):  # Taking turns: a busy moment on the machine hits every model.
            for name, _how, model, _article in MODELS:
                if model is greenlets:
                    wall, got = in_gevent_child(base, jobs, pages)
                else:
                    wall, got = timed(model, base, jobs, pages)
                walls[name].append(wall)
                received.add(tuple(got))

    one_job = pages * latency / 1e3
    wall = {name: statistics.median(w) for name, w in walls.items()}
    table = workbook.Table("model", "how", "wall (s)", "in one job's waits", "article (s)")
    for name, how, _model, article in MODELS:
        table.row(name, how, f"{wall[name]:.2f}", f"{wall[name] / one_job:.1f}", article)
        workbook.metric(f"{name}_s", wall[name], "s")
    table.print()
    print(f"{jobs} jobs of {pages} requests at {latency} ms: one job waits {one_job:.2f} s; "
          f"median of {args.rounds} rounds; {workbook.interpreter()}")
    print("article (s): a popular Python article reports these for 10 jobs of 4 URLs over its author's network")
    workbook.metric("one_job_s", one_job, "s")

    # Sequential waits every job's time in turn; each concurrent model overlaps the jobs, so it
    # must be several times faster (ideally `jobs`), and asyncio within a quarter of the fastest.
    claim = "the concurrent models wait about one job's time, not the sum; asyncio is among the fastest"
    concurrent = [model[0] for model in MODELS[1:]]
    speedups = {name: wall["sequential"] / wall[name] for name in concurrent}
    evidence = "speed-ups over sequential: " + ", ".join(f"{name} {s:.1f}" for name, s in speedups.items())
    if jobs == 1:
        return workbook.unchecked(claim, f"one job: nothing to overlap; {evidence}")
    fastest = min(wall[name] for name in concurrent)
    holds = (
        len(received) == 1 and min(next(iter(received))) > 0
        and wall["sequential"] >= 0.9 * jobs * one_job
        and all(s >= 0.4 * jobs for s in speedups.values())
        and min(wall["async"], wall["async_uvloop"]) <= 1.25 * fastest
    )
    return workbook.verdict(claim, holds, evidence)


if __name__ == "__main__":
    raise SystemExit(main())
