"""run_in_executor's default pool runs min(32, CPUs + 4) blocking calls at once; the rest queue.

    cargo xtask python ch07/asyncio_executor -- --fetches 20 --many 1000 --latency-ms 50
"""

import asyncio
import functools
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import workbook


# ANCHOR: make_async
def make_async(blocking, executor=None):
    """Turns a blocking function into a coroutine function that runs it on `executor`
    (None: the loop's default ThreadPoolExecutor). run_in_executor takes no keyword
    arguments: functools.partial carries them."""

    @functools.wraps(blocking)
    async def call(*args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(blocking, *args, **kwargs))

    return call


def fetch_quote_blocking(latency):
    """A blocking client, as a sync-only library offers it: here a sleep of one latency."""
    time.sleep(latency)
    return threading.get_ident()  # Which thread ran it.
# ANCHOR_END: make_async


# ANCHOR: calls
async def fetch_all(fetches, latency, executor=None):
    fetch_quote = make_async(fetch_quote_blocking, executor)
    return await asyncio.gather(*(fetch_quote(latency) for _ in range(fetches)))


def run(fetches, latency, pool_size=None):
    """`fetches` wrapped calls at once on the default pool, or on a pool of `pool_size` threads."""
    if pool_size is None:
        return asyncio.run(fetch_all(fetches, latency))  # asyncio.run shuts the default pool down.
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        return asyncio.run(fetch_all(fetches, latency, pool))
# ANCHOR_END: calls


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--fetches", int, 20, 1, 1000, "how many calls at once, first")
        .flag("--many", int, 1000, 1, 5000, "how many calls at once, to show the pool's ceiling")
        .flag("--latency-ms", int, 50, 10, 1000, "how long each blocking call takes, in ms")
        .flag("--pool", int, 512, 1, 4096, "the larger pool's threads (tokio's blocking pool holds 512)")
        .parse()
    )
    # ThreadPoolExecutor's default size (Python 3.8 to 3.12; 3.13 counts the CPUs this process may use).
    default_size = min(32, (os.cpu_count() or 1) + 4)
    latency = args.latency_ms
    table = workbook.Table("calls", "pool", "threads", "wall", "latencies", "rounds expected")
    rows = {}
    for fetches, size, name in [
        (args.fetches, None, "default"),
        (args.many, None, "default_many"),
        (args.many, args.pool, f"pool_{args.pool}_many"),
    ]:
        started = time.perf_counter()
        threads = len(set(run(fetches, latency / 1e3, size)))
        wall = (time.perf_counter() - started) * 1e3
        rounds = math.ceil(fetches / (size or default_size))
        pool = f"default ({default_size})" if size is None else f"ThreadPoolExecutor({size})"
        table.row(fetches, pool, threads, f"{wall:.0f} ms", f"{wall / latency:.1f}", rounds)
        workbook.metric(f"{name}_ms", wall, "ms")
        workbook.metric(f"{name}_threads", threads, "")
        rows[name] = (wall, threads, rounds)
    table.print()
    print(f"(each call sleeps {latency} ms; os.cpu_count() = {os.cpu_count()}, {workbook.cores_available()} available; "
          f"{workbook.interpreter()})")
    workbook.metric("default_pool_threads", default_size, "")

    # The default pool's ceiling: every call in flight holds one of its threads, so N calls take
    # ceil(N / size) latencies; the larger pool takes fewer rounds. The margins absorb a busy machine.
    (many, many_threads, rounds), (big, big_threads, big_rounds) = rows["default_many"], rows[f"pool_{args.pool}_many"]
    claim = (f"the default pool runs {default_size} calls at once here, so {args.many} calls take "
             f"{rounds} latencies; a pool of {args.pool} threads, far fewer")
    if args.many <= default_size:
        return workbook.unchecked(claim, f"--many {args.many} does not exceed the default pool's {default_size}")
    capped = many_threads == min(default_size, args.many) and many >= 0.9 * rounds * latency
    faster = big < 0.5 * many if rounds >= 4 * big_rounds else big < 1.5 * many
    return workbook.verdict(
        claim,
        capped and faster and big_threads <= args.pool,
        f"{args.many} x {latency} ms: {many:.0f} ms on {many_threads} threads, "
        f"{big:.0f} ms on {big_threads} threads",
    )


if __name__ == "__main__":
    raise SystemExit(main())
