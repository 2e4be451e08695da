"""N sleeping asyncio tasks finish in about the longest sleep, on asyncio's loop and on uvloop.

    cargo xtask python ch06/asyncio_sleepers -- --tasks 10000 --min-ms 2000 --max-ms 4000
"""

import asyncio
import json
import os
import subprocess
import sys
import time

import uvloop

import workbook

LOOPS = ("asyncio", "uvloop")


# ANCHOR: sleepers
async def sleeper(seconds):
    """One task: wait without holding the thread, then hand back what it waited."""
    await asyncio.sleep(seconds)
    return seconds


async def sleep_all(sleeps):
    """Spawns one task per sleep, then collects the results in the order they finish."""
    spawning = time.perf_counter()
    tasks = [asyncio.create_task(sleeper(seconds)) for seconds in sleeps]
    spawn_s = time.perf_counter() - spawning
    finished = 0
    for next_done in asyncio.as_completed(tasks):
        await next_done
        finished += 1
    return finished, spawn_s


def run_on(loop, sleeps):
    """The same coroutine on either loop: uvloop.run is asyncio.run with uvloop's loop."""
    return (uvloop.run if loop == "uvloop" else asyncio.run)(sleep_all(sleeps))
# ANCHOR_END: sleepers


def sleeps_ms(tasks, min_ms, max_ms):
    """The Rust runtime table's sleeps, exactly: xorshift64 from the same fixed seed."""
    state, mask, out = 0x9E3779B97F4A7C15, (1 << 64) - 1, []
    for _ in range(tasks):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        out.append(min_ms + state % (max(max_ms, min_ms) - min_ms + 1))
    return out


def child(loop, tasks, min_ms, max_ms):
    """Peak memory is per process, so each loop and size runs in a fresh child process."""
    sleeps = [ms / 1000 for ms in sleeps_ms(tasks, min_ms, max_ms)]
    baseline, started = workbook.current_rss_bytes(), time.perf_counter()
    finished, spawn_s = run_on(loop, sleeps)  # The loop is made and closed inside.
    total_ms = (time.perf_counter() - started) * 1e3
    grown = workbook.peak_rss_bytes() - baseline
    print(json.dumps([finished, spawn_s * 1e9 / tasks, total_ms, grown / tasks, len(os.listdir("/proc/self/task"))]))


def in_child(loop, tasks, min_ms, max_ms):
    limit = 3 * max_ms / 1000 + tasks * 100e-6 + 30  # Generous; the child is killed past it.
    return workbook.run_child("--child", loop, tasks, min_ms, max_ms, timeout=limit)


def available_bytes():
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        return next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:"))


def main():
    if (given := workbook.child_args("--child")) is not None:  # [loop, tasks, min_ms, max_ms]
        return child(given[0], *map(int, given[1:]))
    args = (
        workbook.parser(__doc__)
        .flag("--tasks", int, 10_000, 1, 2_000_000, "tasks in the main table")
        .flag("--min-ms", int, 2000, 1, 10_000, "the shortest sleep of the main table, in ms")
        .flag("--max-ms", int, 4000, 1, 10_000, "the longest sleep of the main table, in ms")
        .flag("--scale", int, 1_000_000, 0, 2_000_000, "the scaling table's largest size (0 skips it)")
        .flag("--scale-min-ms", int, 500, 1, 10_000, "the shortest sleep of the scaling table, in ms")
        .flag("--scale-max-ms", int, 1000, 1, 10_000, "the longest sleep of the scaling table, in ms")
        .parse()
    )
    if args.min_ms > args.max_ms or args.scale_min_ms > args.scale_max_ms:
        sys.stderr.write("error: each --*min-ms must not exceed its --*max-ms\n")
        return workbook.EXIT_BAD_INPUT
    sizes = [(args.tasks, args.min_ms, args.max_ms)]
    scale = args.scale  # The scaling table: --scale tasks, and each tenth of it above --tasks.
    while scale > args.tasks:
        sizes.insert(1, (scale, args.scale_min_ms, args.scale_max_ms))
        scale //= 10
    table = workbook.Table("loop", "tasks", "total", "overhead", "spawn/task", "memory/task", "threads", "sleeps")
    curves, failed, skipped, overheads = {}, [], [], {}
    for loop in LOOPS:
        for tasks, min_ms, max_ms in sizes:
            longest = max(sleeps_ms(tasks, min_ms, max_ms))
            known = curves.get(f"bytes_per_task_{loop}")
            # Measured, not guessed: the previous size's bytes per task, times this size, must fit
            # in half of the memory available now.
            if known and 2 * known[-1][1] * tasks > available_bytes():
                skipped.append(f"{loop} at {tasks}")
                continue
            try:
                finished, spawn_ns, total_ms, per_task, threads = in_child(loop, tasks, min_ms, max_ms)
            except (RuntimeError, subprocess.SubprocessError, ValueError):  # Crashed, timed out, or said nothing.
                failed.append(f"{loop} at {tasks}")
                continue
            overhead = total_ms - longest
            main_size = tasks == args.tasks
            if finished != tasks or (main_size and total_ms > 1.5 * longest):
                failed.append(f"{loop} at {tasks}")
            size = "" if main_size else f"_{tasks // 1000}k"
            workbook.metric(f"{loop}{size}_total_ms", total_ms, "ms")
            workbook.metric(f"{loop}{size}_overhead_ms", overhead, "ms")
            workbook.metric(f"{loop}{size}_spawn_ns", spawn_ns, "ns")
            workbook.metric(f"{loop}{size}_bytes_per_task", per_task, "B")
            if main_size:
                workbook.metric(f"{loop}_threads", threads, "threads")
                overheads[loop] = overhead
            workbook.metric(f"{loop}_largest_tasks", tasks, "tasks")  # Sizes go up: the last is the most.
            for name, value in (("overhead_ms", overhead), ("bytes_per_task", per_task), ("spawn_ns", spawn_ns)):
                curves.setdefault(f"{name}_{loop}", []).append((tasks, value))
            sleeps = f"{min_ms}-{max_ms} ms"
            cells = f"{total_ms:.0f} ms", f"{overhead:.1f} ms", f"{spawn_ns:.0f} ns", f"{per_task:.0f} B", threads
            table.row(loop, tasks, *cells, sleeps)
    table.print()
    print(f"({workbook.interpreter()}, uvloop {uvloop.__version__}; a popular Python article reports "
          "10,000 tasks in 4.14 s, 0.14 s of overhead)")
    if skipped:
        print(f"not run, too big for the memory available now: {', '.join(skipped)}")
    for name, points in curves.items():
        y_unit = {"overhead": "ms", "bytes": "bytes per task", "spawn": "ns per task"}[name.split("_")[0]]
        workbook.series(name, "tasks", y_unit, points)
    longest = max(sleeps_ms(*sizes[0]))
    return workbook.verdict(
        f"{args.tasks} sleeping tasks finish in about the longest sleep, not the sum, on both loops",
        not failed,
        f"beyond the longest sleep of {longest} ms: asyncio {overheads.get('asyncio', 0):.0f} ms, "
        f"uvloop {overheads.get('uvloop', 0):.0f} ms" + (f"; not on {', '.join(failed)}" if failed else ""),
    )


if __name__ == "__main__":
    raise SystemExit(main())
