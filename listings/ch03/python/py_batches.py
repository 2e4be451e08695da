"""A pool of 4 threads fetches 100 records about 4 times as fast as one thread, as the jobs divide.

    cargo xtask python ch03/py_batches -- --records 100 --batch 10 --workers 4 --latency-ms 20
"""

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import requests

import workbook

local = threading.local()


# ANCHOR: pool
def fetch_record(base, page):
    """One record, with this thread's own Session: a Session is not
    thread-safe, and one per thread keeps its connection alive."""
    if not hasattr(local, "session"):
        local.session = requests.Session()
    response = local.session.get(f"{base}/ticker/ACME?page={page}", timeout=30)
    response.raise_for_status()
    return response.json()


def fetch_batch(base, pages):
    """A job: a batch of records, fetched one after another."""
    return [fetch_record(base, page) for page in pages]


def one_after_another(base, batches):
    return [fetch_batch(base, pages) for pages in batches]


def on_pool(base, jobs, workers):
    """Hands the jobs to a pool of `workers` threads; `map` returns the
    results in the order of `jobs`, whichever finishes first."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(partial(fetch_batch, base), jobs))
# ANCHOR_END: pool


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--records", int, 100, 1, 10_000, "records to fetch, one request each")
        .flag("--batch", int, 10, 1, 1000, "records per batch, when the pool hands out batches")
        .flag("--workers", int, 4, 1, 256, "worker threads in the pool")
        .flag("--latency-ms", int, 20, 1, 1000, "the simulated API's latency per request, in ms")
        .parse()
    )
    pages = list(range(1, args.records + 1))
    batches = [pages[i : i + args.batch] for i in range(0, len(pages), args.batch)]
    records = [[page] for page in pages]
    table = workbook.Table("how", "jobs", "rounds", "wall", "speed-up", "at best")
    holds, evidence, sequential = True, [], None
    with workbook.latency_server(latency_ms=args.latency_ms) as base:
        fetch_record(base, 1)  # Warm up: imports, the first connection.
        for how, name, jobs, workers in [
            ("one thread, one after another", "sequential", batches, 1),
            (f"pool of {args.workers}, a batch per job", "batches", batches, args.workers),
            (f"pool of {args.workers}, a record per job", "records", records, args.workers),
        ]:
            started = time.perf_counter()
            fetched = one_after_another(base, jobs) if workers == 1 else on_pool(base, jobs, workers)
            wall = time.perf_counter() - started
            # Every record must arrive, in input order.
            holds &= [quote["page"] for job in fetched for quote in job] == pages
            # Jobs run in rounds of `workers` at once, each as long as a job's fetches.
            rounds = math.ceil(len(jobs) / workers) * len(jobs[0])
            at_best = len(pages) / rounds
            sequential = sequential or wall
            speedup = sequential / wall
            # Within 25% of what the rounds allow, and not better by more than 10%.
            holds &= 0.75 <= speedup / at_best < 1.1
            evidence.append(f"{name}: {speedup:.2f}x of {at_best:.2f}x")
            table.row(how, len(jobs), rounds, f"{wall * 1e3:.0f} ms", f"{speedup:.2f}x", f"{at_best:.2f}x")
            workbook.metric(f"{name}_ms", wall * 1e3, "ms")
            workbook.metric(f"speedup_{name}", speedup, "x")
            workbook.metric(f"at_best_{name}", at_best, "x")
    table.print()
    print(f"\n{workbook.interpreter()}, requests {requests.__version__}, {workbook.cores_available()} core(s), "
          f"{args.latency_ms} ms a request")
    return workbook.verdict(
        "a pool of N threads fetches about N times as fast, as far as the jobs divide evenly",
        holds,
        ", ".join(evidence),
    )


if __name__ == "__main__":
    raise SystemExit(main())
