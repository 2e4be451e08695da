"""10,000 Python threads that each sleep 2-4 s end in about the longest sleep, plus their start-up.

    cargo xtask python ch03/py_threads_10k -- --threads 10000 --min-sleep-ms 2000 --max-sleep-ms 4000
"""

import os
import queue
import resource
import sys
import threading
import time

import workbook


def sleeps_ms(count, low, high):
    """The Rust listing's sleeps, exactly: xorshift64 from the same fixed seed."""
    seed, mask, sleeps = 0x2545_F491_4F6C_DD1D, (1 << 64) - 1, []
    for _ in range(count):
        seed ^= (seed << 13) & mask
        seed ^= seed >> 7
        seed ^= (seed << 17) & mask
        sleeps.append(low + seed % (high - low + 1))
    return sleeps


# ANCHOR: spawn_all
def start_all(sleeps, started=lambda count: None):
    """One thread per task, like a thread-per-request server. Each puts its
    number on a queue when it wakes, so results arrive as they complete."""
    done, threads = queue.SimpleQueue(), []

    def task(number, seconds):
        time.sleep(seconds)  # Releases the GIL: the other threads run meanwhile.
        done.put(number)

    for number, ms in enumerate(sleeps):
        # A daemon thread does not hold the process open if main() fails.
        thread = threading.Thread(target=task, args=(number, ms / 1e3), daemon=True)
        try:
            thread.start()
        except RuntimeError as error:  # "can't start new thread": a limit was reached.
            print(f"start failed after {number} threads: {error}")
            break  # The threads already started still end and are joined.
        threads.append(thread)
        started(len(threads))
    return threads, done


def wait_all(threads, done):
    """Takes the results in the order they complete, then joins every thread."""
    finished = [done.get() for _ in threads]
    for thread in threads:
        thread.join()
    return finished
# ANCHOR_END: spawn_all


def read_number(path):  # The first number in a /proc file.
    with open(path, encoding="utf-8") as file:
        return int(file.read().split()[0])


def limits():
    """The machine's limits on threads, read, not guessed: name, value, threads it allows."""
    with open("/proc/loadavg", encoding="utf-8") as loadavg, open("/proc/self/maps", encoding="utf-8") as maps:
        tasks, mapped = int(loadavg.read().split()[3].split("/")[1]), sum(1 for _ in maps)
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    threads_max, pid_max = read_number("/proc/sys/kernel/threads-max"), read_number("/proc/sys/kernel/pid_max")
    map_max = read_number("/proc/sys/vm/max_map_count")
    return [
        ("threads_max", threads_max, threads_max - tasks),
        ("pid_max", pid_max, pid_max - tasks),
        ("ulimit_u", nproc, None if os.geteuid() == 0 or nproc < 0 else nproc - tasks),  # Root is exempt.
        ("max_map_count", map_max, (map_max - mapped) // 2),  # A stack and its guard page: 2 maps.
    ]


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--threads", int, 10_000, 1, 15_000, "threads to start, all alive at once")
        .flag("--min-sleep-ms", int, 2000, 1, 10_000, "the shortest sleep, in ms")
        .flag("--max-sleep-ms", int, 4000, 1, 10_000, "the longest sleep, in ms")
        .parse()
    )
    if args.min_sleep_ms > args.max_sleep_ms:
        sys.stderr.write("error: --min-sleep-ms must not exceed --max-sleep-ms\n")
        return workbook.EXIT_BAD_INPUT
    n, sleeps = args.threads, sleeps_ms(args.threads, args.min_sleep_ms, args.max_sleep_ms)
    shortest, longest = min(sleeps) / 1e3, max(sleeps) / 1e3
    stack = threading.stack_size() or resource.getrlimit(resource.RLIMIT_STACK)[0]  # 0: the platform's default.
    found = limits()
    print(f"stack per thread {stack >> 10} KiB (threading.stack_size() {threading.stack_size()}, ulimit -s); "
          + ", ".join(f"{name} {value}" for name, value, _ in found))
    claim = (f"{n} Python threads sleeping {args.min_sleep_ms}-{args.max_sleep_ms} ms sleep at once: they end "
             "in about the longest sleep, plus the time to start them and the CPU time to end them")
    room = min(allowed for _, _, allowed in found if allowed is not None)
    if n > room:
        return workbook.skipped(claim, f"this machine's limits allow {room} more threads")
    for name, value, _ in found:
        workbook.metric(name, value, "")
    workbook.metric("stack_kib", stack / 1024, "KiB")

    curve, rss_before, begun, cpu = [], workbook.current_rss_bytes(), time.perf_counter(), time.process_time()

    def started(count):  # Three points a decade (10, 20, 50, 100...) and the last.
        if count == n or (str(count).strip("0") in ("1", "2", "5") and count >= 10):
            curve.append((count, (time.perf_counter() - begun) * 1e3, workbook.current_rss_bytes() - rss_before))

    threads, done = start_all(sleeps, started)
    spawn_s = time.perf_counter() - begun
    woken, most_alive = done.qsize(), threading.active_count() - 1  # All started, less those woken.
    mib, statm = (workbook.current_rss_bytes() - rss_before) / 2**20, read_number("/proc/self/statm")
    finished = wait_all(threads, done)
    wall, cpu_s = time.perf_counter() - begun, time.process_time() - cpu

    table = workbook.Table(f"{n} sleeping threads", "")
    for label, name, value, unit in [
        ("longest sleep", "longest_sleep_s", longest, "s"),
        ("wall, first start to last wake", "wall_s", wall, "s"),
        ("wall - longest sleep", "overhead_ms", (wall - longest) * 1e3, "ms"),
        ("to start them all", "spawn_all_ms", spawn_s * 1e3, "ms"),
        ("to start one", "start_us_per_thread", spawn_s * 1e6 / max(1, len(threads)), "µs"),
        ("CPU to start and end one", "cpu_us_per_thread", cpu_s * 1e6 / max(1, len(threads)), "µs"),
        ("at most alive at once", "most_alive", most_alive, ""),
        ("woken before the last started", "woken_early", woken, ""),
        ("one after another", "sequential_s", sum(sleeps) / 1e3, "s"),
        ("resident, all alive", "resident_mib", mib, "MiB"),
        ("resident each", "rss_each_kib", mib * 1024 / max(1, most_alive), "KiB"),
        ("peak resident, whole process", "peak_rss_mib", workbook.peak_rss_bytes() / 2**20, "MiB"),
        ("address space reserved", "reserved_gib", statm * os.sysconf("SC_PAGE_SIZE") / 2**30, "GiB"),
    ]:
        table.row(label, f"{value:.{0 if value >= 100 or isinstance(value, int) else 2}f} {unit}".rstrip())
        workbook.metric(name, value, unit)
    table.print()
    print(f"{workbook.interpreter()}; the article: \"10,000 tasks in a multithreaded program is out of the question\"")
    workbook.series("rss_mib_by_threads", "threads started", "MiB", [(c, rss / 2**20) for c, _, rss in curve])
    workbook.series("spawn_ms_by_threads", "threads started", "ms", [(c, ms) for c, ms, _ in curve])

    # They sleep at once: the wall time is the longest sleep, plus the time to start them, plus at worst
    # all the CPU time starting and ending them takes (on one core it queues up), and a second to spare.
    holds = (len(threads) == n and sorted(finished) == list(range(n)) and (most_alive == n or spawn_s >= shortest)
             and longest <= wall <= longest + spawn_s + cpu_s + 1)
    return workbook.verdict(claim, holds, f"{len(finished)} done in {wall:.2f} s, longest sleep {longest:.2f} s, "
                            f"{spawn_s:.2f} s to start them, {cpu_s:.2f} s of CPU, {most_alive} alive at once")


if __name__ == "__main__":
    raise SystemExit(main())
