"""Under the GIL, threads that wait on I/O still overlap: CPython releases the GIL while they wait.

    cargo xtask python ch02/gil_io_threads -- --threads 10 --latency-ms 50
"""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import requests

import workbook

MASK = (1 << 64) - 1
local = threading.local()


def run_bytecodes(steps, seed):
    """Plain Python arithmetic standing in for parsing: bytecodes, run under the GIL."""
    x = seed | 1
    for _ in range(steps):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
    return x


# ANCHOR: fetch_all
def fetch_and_parse(base, page, parse_units):
    """Fetches one page with this thread's own Session (Sessions are not
    thread-safe; one per thread also keeps its connection alive), then
    parses it. While the request waits on its socket, the GIL is released."""
    if not hasattr(local, "session"):
        local.session = requests.Session()
    response = local.session.get(f"{base}/ticker/ACME?page={page}", timeout=30)
    response.raise_for_status()
    quote = response.json()
    checksum = quote["page"]
    for unit in range(parse_units):  # The parse is interpreted work: it needs the GIL.
        checksum ^= run_bytecodes(1000, unit ^ len(quote["prices"]))
    return quote["page"], checksum


def one_after_another(base, pages, parse_units):
    return [fetch_and_parse(base, page, parse_units) for page in pages]


def on_threads(base, pages, parse_units):
    """One thread per page: each waits for its answer while the others run."""
    with ThreadPoolExecutor(max_workers=len(pages)) as pool:
        return list(pool.map(partial(fetch_and_parse, base, parse_units=parse_units), pages))
# ANCHOR_END: fetch_all


def units_for(cpu_ms):
    """How many units of 1000 rounds take `cpu_ms` of CPU time, timed on this thread's CPU clock."""
    started, units = time.thread_time(), 0
    while time.thread_time() - started < 0.05:
        for unit in range(units, units + 20):
            run_bytecodes(1000, unit)
        units += 20
    return round(units * cpu_ms / 50)


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--threads", int, 10, 1, 200, "threads, each fetching one page and then parsing it")
        .flag("--latency-ms", int, 50, 1, 2000, "the simulated API's latency per request, in ms")
        .flag("--parse-ms", int, 2, 0, 100, "CPU time each thread spends parsing its page, in ms")
        .flag("--repeats", int, 3, 1, 50, "times to run both ways, interleaved; the table shows medians")
        .parse()
    )
    n, latency, parse = args.threads, args.latency_ms, args.parse_ms
    parse_units, pages = units_for(parse), list(range(1, n + 1))
    walls = {"threads": [], "sequential": []}
    with workbook.latency_server(latency_ms=latency) as base:
        one_after_another(base, pages[:1], 0)  # Warm up: imports, the first connection.
        for _ in range(args.repeats):  # Interleaved: a burst of load hits both ways.
            for name, way in (("threads", on_threads), ("sequential", one_after_another)):
                started = time.perf_counter()
                got = way(base, pages, parse_units)
                walls[name].append((time.perf_counter() - started) * 1e3)
                if [page for page, _ in got] != pages:
                    return workbook.verdict("every page arrives, in order", False, f"{name}: {got}")
    threads, sequential = (statistics.median(walls[name]) for name in ("threads", "sequential"))
    overlapped, one_by_one = latency + n * parse, n * (latency + parse)

    table = workbook.Table("way", "wall", "expected", "because")
    table.row(f"{n} threads", f"{threads:.0f} ms", f"{overlapped} ms", "one latency, then the parses take turns")
    table.row("one after another", f"{sequential:.0f} ms", f"{one_by_one} ms", "every fetch and parse in turn")
    table.print()
    speedup = sequential / threads
    print(f"\n{workbook.interpreter()}, requests {requests.__version__}, {workbook.cores_available()} core(s): "
          f"{n} threads {speedup:.1f}x as fast as one after another (at best {one_by_one / overlapped:.1f}x); "
          f"the article: I/O 4-5x faster with threads")
    workbook.metric("threads_ms", threads, "ms")
    workbook.metric("sequential_ms", sequential, "ms")
    workbook.metric("speedup", speedup, "x")
    workbook.metric("at_best", one_by_one / overlapped, "x")
    workbook.metric("overlapped_ms", overlapped, "ms")
    workbook.metric("one_by_one_ms", one_by_one, "ms")

    claim = "threads waiting on I/O overlap their waits under the GIL; one after another, the waits add up"
    evidence = f"{n} threads, {latency} ms latency: {threads:.0f} ms on threads, {sequential:.0f} ms one by one"
    if n < 2:
        return workbook.unchecked(claim, "one thread has nothing to overlap with")
    # Waits overlap on any number of cores: waiting needs none. Half of the
    # best speed-up leaves room for a busy machine and for requests' own CPU time.
    holds = sequential >= 0.9 * n * latency and speedup >= 0.5 * one_by_one / overlapped
    return workbook.verdict(claim, holds, evidence)


if __name__ == "__main__":
    raise SystemExit(main())
