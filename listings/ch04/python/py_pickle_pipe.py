"""Data crosses to a process pickled, at a cost that grows with its size; a thread gets a reference.

    cargo xtask python ch04/py_pickle_pipe -- --max-mib 16
"""

import array
import multiprocessing
import pickle
import queue
import threading
import time

import workbook


# ANCHOR: worker
def count_prices(receive, send):
    """The worker process: every batch arrives pickled and is unpickled into
    its own memory; it answers with how many prices it got. None ends it."""
    for prices in iter(receive, None):
        send(len(prices))


def echo(receive, send):
    """The worker thread: it gets the very list the sender put, not a copy."""
    for prices in iter(receive, None):
        send(prices)
# ANCHOR_END: worker


def dying_with_parent(work, *args):
    """Runs `work` in a worker that dies with this program: blocked on a Queue, it would never see
    end-of-file, for it holds both ends."""
    workbook.die_with_parent()
    work(*args)


def best_us(round_trip, samples):
    """The best of `samples` round trips, in µs: the one other programs disturbed least."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        round_trip()
        times.append((time.perf_counter() - started) * 1e6)
    return min(times)


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--max-mib", int, 16, 1, 256, "the largest batch, in MiB of 8-byte prices; from 1 KiB up, x4 a step")
        .flag("--samples", int, 5, 1, 100, "round trips per size and way; the table shows the best")
        .parse()
    )
    # One long-lived worker per way: start-up is not counted here.
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    to_process, from_process = spawn.Queue(), spawn.Queue()
    to_thread, from_thread = queue.SimpleQueue(), queue.SimpleQueue()
    workers = [
        spawn.Process(target=dying_with_parent, args=(count_prices, theirs.recv, theirs.send), daemon=True),
        spawn.Process(target=dying_with_parent, args=(count_prices, to_process.get, from_process.put), daemon=True),
        threading.Thread(target=echo, args=(to_thread.get, from_thread.put), daemon=True),
    ]

    # ANCHOR: round_trips
    def through_pipe(prices):  # Pickled, written, read, unpickled: a copy.
        ours.send(prices)
        return ours.recv()

    def through_queue(prices):  # The same, plus the Queue's feeder thread.
        to_process.put(prices)
        return from_process.get()

    def to_a_thread(prices):  # A reference crosses, whatever the size.
        to_thread.put(prices)
        return len(from_thread.get())
    # ANCHOR_END: round_trips

    ways = [("pipe", through_pipe), ("queue", through_queue), ("array", through_pipe), ("thread", to_a_thread)]
    table = workbook.Table("batch", "pickled", "pickle", "Pipe", "Queue", "Pipe, array('d')", "thread", "Pipe/thread")
    curves, smallest = {name: [] for name, _ in ways}, None
    try:
        for worker in workers:
            worker.start()
        theirs.close()  # The child has its own copy.
        kib = 1
        while kib <= args.max_mib * 1024:
            prices = [(10_000 + i % 5_000) / 100 for i in range(kib * 128)]
            batches = {"array": array.array("d", prices)}  # The faster option: one buffer, pickled as bytes.
            started = time.perf_counter()
            pickled = pickle.dumps(prices, protocol=pickle.HIGHEST_PROTOCOL)
            encode_us = (time.perf_counter() - started) * 1e6
            row = {}
            for name, round_trip in ways:
                batch = batches.get(name, prices)
                # A thread's round trip is microseconds: take four times the samples.
                row[name] = best_us(lambda: round_trip(batch), args.samples * (4 if name == "thread" else 1))
                if round_trip(batch) != len(prices):
                    return workbook.verdict("every batch arrives whole", False, f"{name} at {kib} KiB")
                curves[name].append((kib, row[name]))
            table.row(size(kib * 1024), size(len(pickled)), us(encode_us), *(us(row[n]) for n, _ in ways),
                      f"{row['pipe'] / row['thread']:.0f}x")
            smallest = smallest or row
            largest, largest_encode, largest_bytes = row, encode_us, len(pickled)
            kib *= 4
    finally:
        ours.send(None), to_process.put(None), to_thread.put(None)
        for worker in workers:
            worker.join(timeout=5)
            if isinstance(worker, multiprocessing.Process) and worker.is_alive():
                worker.kill()
    table.print()
    print(f"best of {args.samples} round trips per size and way (the thread: {4 * args.samples}); "
          f"a batch is a list of floats, 8 bytes each in an array('d'); {workbook.interpreter()}")
    for name, points in curves.items():
        workbook.series(f"{name}_round_trip" if name != "pipe" else "process_round_trip", "KiB", "µs", points)
    process_growth, thread_growth = largest["pipe"] / smallest["pipe"], largest["thread"] / smallest["thread"]
    workbook.metric("process_growth", process_growth, "x")
    workbook.metric("thread_growth", thread_growth, "x")
    workbook.metric("process_smallest_us", smallest["pipe"], "µs")
    workbook.metric("thread_smallest_us", smallest["thread"], "µs")
    workbook.metric("process_largest_ms", largest["pipe"] / 1e3, "ms")
    workbook.metric("queue_largest_ms", largest["queue"] / 1e3, "ms")
    workbook.metric("array_largest_ms", largest["array"] / 1e3, "ms")
    workbook.metric("encode_largest_ms", largest_encode / 1e3, "ms")
    workbook.metric("thread_largest_us", largest["thread"], "µs")
    workbook.metric("largest_pickle_mib", largest_bytes / 2**20, "MiB")
    workbook.metric("largest_ratio", largest["pipe"] / largest["thread"], "x")
    holds = process_growth > 10 and thread_growth < 10 and largest["pipe"] > 100 * largest["thread"]
    evidence = f"from the smallest to the largest batch: process x{process_growth:.0f}, thread x{thread_growth:.1f}"
    return workbook.verdict("a process's cost grows with the payload, a thread's does not", holds, evidence)


def size(size_bytes):
    return f"{size_bytes / 2**20:.1f} MiB" if size_bytes >= 2**20 else f"{size_bytes / 1024:.1f} KiB"


def us(micros):
    if micros >= 10_000:
        return f"{micros / 1e3:.0f} ms"
    return f"{micros / 1e3:.1f} ms" if micros >= 1000 else f"{micros:.0f} µs"


if __name__ == "__main__":
    raise SystemExit(main())
