"""A blocking call in a coroutine stalls every task on its loop while it runs; awaiting does not.

    cargo xtask python ch07/asyncio_blocking -- --block-ms 50 --file-mib 32
"""

import asyncio
import math
import statistics
import tempfile
import time
from pathlib import Path

import workbook


# ANCHOR: handler
async def handle_request(call, calls, pause, path):
    """A request handler that makes `calls` calls, each followed by an await
    (here asyncio.sleep(0), in a real handler a query or a response write)."""
    for _ in range(calls):
        match call:
            # Blocks the thread, so the loop: no other task runs until it returns.
            case "time_sleep":
                time.sleep(pause)
            case "asyncio_sleep":
                await asyncio.sleep(pause)
            # The blocking call on the loop's default thread pool; the loop runs meanwhile.
            case "to_thread_sleep":
                await asyncio.to_thread(time.sleep, pause)
            # Blocks too: the page cache makes it fast, never non-blocking.
            case "read_bytes":
                path.read_bytes()
            case "to_thread_read":
                await asyncio.to_thread(path.read_bytes)
        await asyncio.sleep(0)


async def heartbeat(tick, done):
    """Ticks every `tick` seconds until `done` is set; returns the gaps between ticks."""
    gaps, last = [], time.perf_counter()
    while not done.is_set():
        await asyncio.sleep(tick)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    return gaps


async def gaps_next_to(call, calls, pause, path, tick):
    """Both on one loop: a few regular beats first, then the handler, to its end."""
    done = asyncio.Event()
    beats = asyncio.create_task(heartbeat(tick, done))
    await asyncio.sleep(3 * tick)
    await asyncio.create_task(handle_request(call, calls, pause, path))
    done.set()
    return await beats
# ANCHOR_END: handler

CASES = [
    ("time.sleep", "time_sleep"),
    ("asyncio.sleep", "asyncio_sleep"),
    ("asyncio.to_thread(time.sleep)", "to_thread_sleep"),
    ("Path.read_bytes", "read_bytes"),
    ("asyncio.to_thread(Path.read_bytes)", "to_thread_read"),
]


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--tick-ms", int, 5, 1, 50, "how often the heartbeat should tick, in ms")
        .flag("--calls", int, 5, 1, 100, "how many blocking calls the handler makes")
        .flag("--block-ms", int, 50, 10, 1000, "how long each sleep lasts, in ms (a stand-in for a blocking HTTP call)")
        .flag("--file-mib", int, 32, 1, 1024, "the size of the file the handler reads, in MiB")
        .parse()
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prices.bin"
        path.write_bytes(bytes([7]) * (args.file_mib << 20))
        alone = []  # Reads timed alone: the page cache holds the file now, a blocking read's best case.
        for _ in range(3):
            started = time.perf_counter()
            path.read_bytes()
            alone.append((time.perf_counter() - started) * 1e3)
        read_ms = statistics.median(alone)
        table = workbook.Table("the handler calls", "ticks", "stalls", "stalled", "longest gap", "p99 gap")
        stalls, stalled = {}, {}
        for label, call in CASES:
            # A stall: a gap longer than a tick plus half of one call's blocking.
            blocking = args.block_ms if call.endswith("sleep") else read_ms
            stall_ms = args.tick_ms + blocking / 2
            gaps = asyncio.run(gaps_next_to(call, args.calls, args.block_ms / 1e3, path, args.tick_ms / 1e3))
            ms = sorted(gap * 1e3 for gap in gaps)
            longest, p99 = ms[-1], ms[max(0, math.ceil(len(ms) * 0.99) - 1)]
            stalls[call] = sum(gap > stall_ms for gap in ms)
            stalled[call] = sum(gap for gap in ms if gap > stall_ms)
            row = f"{stalls[call]} of {args.calls}", f"{stalled[call]:.0f} ms", f"{longest:.1f} ms", f"{p99:.1f} ms"
            table.row(label, len(ms), *row)
            workbook.metric(f"{call}_max_gap_ms", longest, "ms")
            workbook.metric(f"{call}_p99_gap_ms", p99, "ms")
            workbook.metric(f"{call}_stalls", stalls[call], "")
            workbook.metric(f"{call}_stalled_ms", stalled[call], "ms")
            curve, elapsed = [], 0.0  # Every gap at the moment its tick came.
            for gap in gaps:
                elapsed += gap * 1e3
                curve.append((elapsed, gap * 1e3))
            workbook.series(f"gaps_{call}", "ms since the heartbeat started", "ms", curve)
    table.print()
    print(
        f"(heartbeat every {args.tick_ms} ms; {args.calls} calls of a {args.block_ms} ms sleep, or of a read "
        f"of a {args.file_mib} MiB file, {read_ms:.0f} ms alone; a stall: a gap over a tick plus half a call)"
    )
    workbook.metric("read_ms", read_ms, "ms")
    workbook.metric("tick_ms", args.tick_ms, "ms")
    # Each blocking call should stall the heartbeat for its whole duration: half of all the calls'
    # time, stalled, leaves a margin for a busy machine. asyncio merges back-to-back stalls: after
    # `await asyncio.sleep(0)` the loop only readies the heartbeat's timer, and the handler blocks
    # again before the heartbeat's turn comes, so gaps are fewer and longer than the calls.
    # The threaded read is reported, not checked: on a busy core the reading thread competes.
    few = args.calls // 2
    holds = (
        stalled["time_sleep"] >= 0.5 * args.calls * args.block_ms
        and stalled["read_bytes"] >= 0.5 * args.calls * read_ms
        and stalls["asyncio_sleep"] <= few and stalls["to_thread_sleep"] <= few
    )
    return workbook.verdict(
        "each blocking call stalls the heartbeat for its whole duration; awaiting, or a thread, does not",
        holds,
        f"stalled in {args.calls} calls: {stalled['time_sleep']:.0f} ms with time.sleep, "
        f"{stalled['asyncio_sleep']:.0f} ms with asyncio.sleep, {stalled['to_thread_sleep']:.0f} ms with to_thread; "
        f"{stalled['read_bytes']:.0f} ms with read_bytes ({read_ms:.0f} ms a read)",
    )

if __name__ == "__main__":
    raise SystemExit(main())
