"""Rust work that keeps the GIL gives Python threads no speed-up; released, they use the cores.

    cargo xtask python ch02/gil_rust_ext -- --work-ms 200
"""

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import workbook

try:
    # ANCHOR: import
    # A Rust extension module (listings/gil_ext): the same CPU-bound work, in two functions.
    from gil_ext import spin_holding_gil, spin_releasing_gil
    # ANCHOR_END: import
    from gil_ext import most_inside_at_once
except ImportError as error:
    sys.stderr.write(
        f"error: {error}; build it: cargo build --release -p gil_ext, then copy "
        "target/release/libgil_ext.so to gil_ext.abi3.so in a folder on PYTHONPATH "
        "(cargo xtask python ch02/gil_rust_ext does both)\n"
    )
    raise SystemExit(workbook.EXIT_BAD_INPUT)


# ANCHOR: job
def run_job(spin, units, threads):
    """Splits units 0..units over a pool of `threads` threads, one call into Rust each,
    as one would split an array over threads for NumPy."""
    bounds = [units * i // threads for i in range(threads + 1)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # Each share's checksum is a sum mod 2**64: the shares add up to the whole job's.
        return sum(pool.map(spin, bounds[:-1], bounds[1:])) % 2**64
# ANCHOR_END: job


def units_for(cpu_ms):
    """How many units of 1000 rounds take `cpu_ms` of CPU time, timed on this thread's CPU clock."""
    started, units = time.thread_time(), 0
    while time.thread_time() - started < 0.02:
        spin_holding_gil(units, units + 100)
        units += 100
    return max(1, round(units * cpu_ms / 20))


def python_units(start, stop):
    """The same units in plain Python, to check the extension's answer."""
    mask, checksum = (1 << 64) - 1, 0
    for unit in range(start, stop):
        x = unit | 1
        for _ in range(1000):
            x ^= (x << 13) & mask
            x ^= x >> 7
            x ^= (x << 17) & mask
        checksum = (checksum + x) & mask
    return checksum


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--work-ms", int, 200, 20, 10_000, "CPU time the whole job takes on one thread, in ms")
        .flag("--repeats", int, 3, 1, 50, "times to run every row, interleaved; the table shows medians")
        .parse()
    )
    cores, units = workbook.cores_available(), units_for(args.work_ms)
    spins = {"holding": spin_holding_gil, "releasing": spin_releasing_gil}
    rows = [(gil, threads) for gil in spins for threads in (1, 2, 4)]
    runs = {row: [] for row in rows}  # (wall s, CPU s, most threads inside Rust at once) per run
    first = min(20, units)  # The first units in plain Python, the rest in Rust: the same answer.
    answers = {(python_units(0, first) + spin_holding_gil(first, units)) % 2**64}
    for _ in range(args.repeats):  # Interleaved: a burst of load hits every row.
        for gil, threads in rows:
            most_inside_at_once()
            wall, cpu = time.perf_counter(), time.process_time()
            answers.add(run_job(spins[gil], units, threads))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            runs[gil, threads].append((wall, cpu, most_inside_at_once()))

    def median(row, field):  # field 0: wall s, 1: CPU s, 2: most inside at once
        return statistics.median(run[field] for run in runs[row])

    table = workbook.Table("threads", "GIL", "wall", "CPU", "CPU/wall", "speed-up", "together")
    speedup, used, together = {}, {}, {}
    for gil, threads in rows:
        row, name = (gil, threads), f"{gil}_{threads}"
        wall, cpu, together[row] = median(row, 0) * 1e3, median(row, 1) * 1e3, median(row, 2)
        used[row] = statistics.median(cpu / wall for wall, cpu, _ in runs[row])
        speedup[row] = median((gil, 1), 0) * 1e3 / wall
        table.row(threads, gil, f"{wall:.0f} ms", f"{cpu:.0f} ms", f"{used[row]:.2f}", f"{speedup[row]:.2f}x",
                  f"{together[row]:.0f}")
        workbook.metric(f"wall_ms_{name}", wall, "ms")
        workbook.metric(f"cores_used_{name}", used[row], "cores")
        workbook.metric(f"together_{name}", together[row], "")
        if threads > 1:
            workbook.metric(f"speedup_{name}", speedup[row], "x")
    table.print()
    for gil in dict(rows):
        workbook.series(f"speedup_{gil}", "threads", "x", [(t, speedup[g, t]) for g, t in rows if g == gil])
    print(f"\n{workbook.interpreter()}, {cores} core(s), {units} units of 1000 rounds, one call into Rust "
          "per thread; \"together\": the most threads inside Rust at once")
    workbook.metric("cores", cores, "cores")

    if len(answers) != 1:
        return workbook.verdict("every split computes the answer plain Python does", False, f"{len(answers)} answers")
    at = "; ".join(f"{gil} the GIL, 2 and 4 threads: " + ", ".join(
        f"{speedup[gil, t]:.2f}x on {used[gil, t]:.2f} cores, {together[gil, t]:.0f} inside at once" for t in (2, 4))
        for gil in spins)
    claim = ("Rust work that keeps the GIL runs one call at a time, with no speed-up; released, the calls "
             "run together, on up to min(threads, cores) cores")
    # Holding the GIL, no thread can even enter the call while another is in it:
    # one core at a time, whatever the cores. Releasing it, every thread gets in
    # and the OS spreads them over the free cores. On a machine shared with other
    # programs the free cores, and so the wall clock, change from one second to
    # the next: as in cpu_threads.rs, the check is on the cause (calls one at a
    # time or together) and on the cores used, not on a speed-up.
    one_at_a_time = all(together["holding", t] == 1 and used["holding", t] < 1.2 for t in (2, 4))
    overlap = all(together["releasing", t] >= 2 for t in (2, 4))
    capped = all(used["releasing", t] < min(t, cores) + 0.2 for t in (2, 4))
    if cores < 2:
        if not (one_at_a_time and overlap and capped):
            return workbook.verdict(claim, False, at)
        return workbook.skipped(claim, f"{cores} core: held to one core either way, as claimed, but a "
                                       f"speed-up needs 2; {at}")
    return workbook.verdict(claim, one_at_a_time and overlap and capped, at)


if __name__ == "__main__":
    raise SystemExit(main())
