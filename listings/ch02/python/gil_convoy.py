"""Next to a CPU-bound thread, an I/O thread waits a switch interval for the GIL after every I/O.

    cargo xtask python ch02/gil_convoy -- --ops 40 --intervals-ms 1,5,20
"""

import multiprocessing
import socket
import statistics
import struct
import sys
import threading
import time

import workbook

MASK = (1 << 64) - 1


# ANCHOR: convoy
def answer_pings(peer, latency_s):
    """The other end, in its own process and so with its own GIL: it answers
    every ping after the latency, with the time it sent the answer."""
    with peer:
        while peer.recv(1):
            time.sleep(latency_s)
            peer.sendall(struct.pack("d", time.monotonic()))  # One clock for every process.


def crunch(stop, holding):
    """A CPU-bound thread: pure-Python arithmetic that never blocks, so it
    gives the GIL up only when another thread has waited a switch interval."""
    holding.set()
    x = 1
    while not stop.is_set():
        for _ in range(1000):
            x ^= (x << 13) & MASK
            x ^= x >> 7
            x ^= (x << 17) & MASK


def io_next_to(connection, ops, busy):
    """Makes `ops` round trips one after another, next to a CPU-bound thread
    or alone, and times how long this thread waits for the GIL after each
    answer: from the moment the peer sent it to the moment it runs again."""
    stop, holding = threading.Event(), threading.Event()
    cruncher = threading.Thread(target=crunch, args=(stop, holding), daemon=True)
    if busy:
        cruncher.start()
        holding.wait()  # Start once it runs: a new thread may wait for a CPU.
    try:
        started, waits = time.perf_counter(), []
        for _ in range(ops):
            connection.sendall(b"?")  # Each socket call releases the GIL...
            answer = connection.recv(8, socket.MSG_WAITALL)  # ...and must take it back.
            waits.append((time.monotonic() - struct.unpack("d", answer)[0]) * 1e3)
        return waits, time.perf_counter() - started
    finally:
        stop.set()
        if busy:
            cruncher.join()
# ANCHOR_END: convoy


def parse_intervals(text):
    """Comma-separated whole milliseconds, each in 1..=200."""
    values = [int(part) for part in text.split(",")]
    if not values or any(not 1 <= value <= 200 for value in values):
        raise ValueError(text)
    return sorted(set(values))


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--ops", int, 40, 1, 10_000, "round trips the I/O thread makes, one after another, per row")
        .flag("--latency-ms", int, 0, 0, 1000, "how long the peer waits before it answers, in ms")
        .flag("--intervals-ms", str, "1,5,20", help="switch intervals to try, in ms, comma-separated (1..=200)")
        .parse()
    )
    try:
        intervals = parse_intervals(args.intervals_ms)
    except ValueError:
        sys.stderr.write(f"error: argument --intervals-ms: invalid value {args.intervals_ms!r}: not ms in 1..=200\n")
        return workbook.EXIT_BAD_INPUT
    table = workbook.Table("next to", "interval", "round trips/s", "median wait", "slowest", "tries")
    default, busy_waits, alone, alone_rate = sys.getswitchinterval(), [], 0.0, 0.0
    connection, peer = socket.socketpair()
    # Spawned, the peer holds no copy of our end: it reads end-of-file as soon as we close it or die.
    spawn = multiprocessing.get_context("spawn")
    answerer = spawn.Process(target=answer_pings, args=(peer, args.latency_ms / 1e3), daemon=True)
    answerer.start()
    peer.close()  # The child has its own copy.
    try:
        io_next_to(connection, 1, busy=False)  # The peer is a fresh interpreter: let it start first.
        for interval_ms, busy in [(round(default * 1e3), False)] + [(ms, True) for ms in intervals]:
            sys.setswitchinterval(interval_ms / 1e3)
            # The convoy needs the CPU-bound thread to take the GIL while the I/O thread
            # waits. On a busy machine other programs can delay its wake-up past the
            # answer, and the I/O thread finds the GIL free: they can only hide the convoy,
            # never make one. So a row that shows less than an interval gets two more tries.
            for tries in range(1, 4):
                waits, wall = io_next_to(connection, args.ops, busy)
                if not busy or statistics.median(waits) >= 0.8 * interval_ms - args.latency_ms:
                    break
            rate, wait, name = args.ops / wall, statistics.median(waits), f"{interval_ms}ms" if busy else "alone"
            table.row("a CPU-bound thread" if busy else "nothing", f"{interval_ms} ms", f"{rate:.0f}",
                      f"{wait:.2f} ms", f"{max(waits):.2f} ms", tries)
            workbook.metric(f"wait_ms_{name}", wait, "ms")
            workbook.metric(f"requests_per_s_{name}", rate, "requests/s")
            if busy:
                workbook.metric(f"slowdown_{name}", alone_rate / rate, "x")
                busy_waits.append((interval_ms, wait))
            else:
                alone_rate, alone = rate, wait
                workbook.metric("wait_us_alone", 1e3 * wait, "µs")
    finally:
        sys.setswitchinterval(default)
        connection.close()  # The peer reads end-of-file and returns.
        answerer.join(timeout=5)
        if answerer.is_alive():
            answerer.kill()
    table.print()
    print(f"\n{workbook.interpreter()}, {workbook.cores_available()} core(s), {args.ops} round trips a row, "
          f"the peer answers after {args.latency_ms} ms; wait: from the answer sent to Python running again")
    workbook.series("wait_ms_by_interval", "ms", "ms", busy_waits)

    # Alone, nobody holds the GIL when the answer comes. Next to a busy
    # thread, the I/O thread asks for it back, waits a whole interval, and
    # only then is the busy thread told to let go: never less than one. (The
    # wait after sending the ping can overlap the peer's latency, hence the -.)
    (briefest, brief_wait), (longest, long_wait) = busy_waits[0], busy_waits[-1]
    free_when_alone = alone < 0.25 * briefest
    at_least_an_interval = all(wait >= 0.8 * interval - args.latency_ms for interval, wait in busy_waits)
    grows = longest < 2 * briefest or long_wait > 2 * brief_wait
    return workbook.verdict(
        "next to a CPU-bound thread, every I/O costs the I/O thread at least one switch interval "
        "of waiting for the GIL",
        free_when_alone and at_least_an_interval and grows,
        f"median wait alone {alone:.2f} ms; next to it "
        + ", ".join(f"{wait:.2f} ms at {interval} ms" for interval, wait in busy_waits),
    )


if __name__ == "__main__":
    raise SystemExit(main())
