"""A suspended generator, coroutine or asyncio task keeps its frame: hundreds of bytes, not a stack.

    cargo xtask python ch05/py_coroutines -- --pages 3 --take 4 --items 10000
"""

import asyncio
import gc
import math
import resource
import sys
import tracemalloc

import workbook

PAGE_SIZE = 3  # Prices per page of the simulated ticker API.


def fetch_page(page, pages):
    """The Rust listing's paged API: page `page` of the prices, in cents, or None past the last page."""
    return [10_000 + (page * PAGE_SIZE + i) * 7_919 % 400 for i in range(PAGE_SIZE)] if page < pages else None


# ANCHOR: running_average
def ticker_reader(pages, log=print):
    """A generator: it runs until the next price, suspends at `yield`, and fetches the next
    page only when the caller asks for a price past this one."""
    page = 0
    while (prices := fetch_page(page, pages)) is not None:
        log(f"  reader: page {page} -> {prices}")
        yield from prices
        page += 1


def running_average():
    """A coroutine built on a generator: each send(price) takes a price in, and the
    `yield` hands the running average out and suspends until the next one."""
    count, total, average = 0, 0, None
    while True:
        price = yield average
        count, total = count + 1, total + price
        average = int(total / count + 0.5)  # In cents, halves rounded up.
# ANCHOR_END: running_average


# ANCHOR: suspended
class Pause:
    """An awaitable that suspends once: what asyncio.sleep(0) does, without a loop."""

    def __await__(self):
        yield


async def heartbeat():
    await Pause()


async def parked(ready):
    await ready.wait()
# ANCHOR_END: suspended


async def per_item(make, items):
    """Bytes allocated per item while `items` of them are alive (tracemalloc), the list aside,
    and the first one's own size (sys.getsizeof: the object, not what it refers to)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    made = [make() for _ in range(items)]
    await asyncio.sleep(0)  # New tasks run to their first await, and park there.
    grown = tracemalloc.get_traced_memory()[0] - before - sys.getsizeof(made)
    tracemalloc.stop()
    for item in made:
        getattr(item, "close", lambda: None)()  # Generators and coroutines end; asyncio.run cancels tasks.
    return grown / items, sys.getsizeof(made[0])


def started(suspendable):
    """Runs a generator or a coroutine to its first yield or await, by hand: suspended there."""
    suspendable.send(None)
    return suspendable


async def measure(items):
    ready = asyncio.Event()  # Never set: the tasks stay parked.
    kinds = [
        ("reader", "a ticker_reader, suspended at yield", lambda: started(ticker_reader(3, len))),
        ("average", "a running_average, suspended at yield", lambda: started(running_average())),
        ("coroutine_unstarted", "a coroutine object, never run", heartbeat),
        ("coroutine", "a coroutine, suspended at await", lambda: started(heartbeat())),
        ("task", "an asyncio.Task parked on an Event", lambda: asyncio.create_task(parked(ready))),
    ]
    return [(name, label, *await per_item(make, items)) for name, label, make in kinds]


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--pages", int, 3, 1, 1000, "how many pages the ticker API has")
        .flag("--take", int, 4, 1, 1000, "how many prices the caller takes before it pauses")
        .flag("--items", int, 10_000, 1000, 1_000_000, "how many of each kind to measure the memory of")
        .parse()
    )
    # ANCHOR: drive
    # The caller takes a few prices, pauses while the reader sits suspended in its frame, then
    # resumes it until it is exhausted; each price goes into the average with send().
    reader, average = ticker_reader(args.pages), running_average()
    next(average)  # Prime it: run it to its first yield, where it waits for a price.
    seen, mean, fetched_at_pause = [], None, 0
    for price in reader:
        seen.append(price)
        mean = average.send(price)
        print(f"caller: got {price / 100:.2f}, average so far {mean / 100:.2f}")
        if len(seen) == args.take:
            frame = reader.gi_frame  # A suspended generator's frame, and its locals, stay readable.
            fetched_at_pause = frame.f_locals["page"] + 1
            print(f"caller: paused; the reader waits at line {frame.f_lineno}, page={frame.f_locals['page']}")
    # ANCHOR_END: drive
    everything = [p for page in range(args.pages) for p in fetch_page(page, args.pages)]
    expected = int(sum(everything) / len(everything) + 0.5)

    n = args.items
    rows = asyncio.run(measure(n))
    stack = resource.getrlimit(resource.RLIMIT_STACK)[0]  # glibc reserves this for a new thread.
    stack = stack if 0 < stack < resource.RLIM_INFINITY else 8 << 20
    table = workbook.Table("one", "allocated per item", "sys.getsizeof", "of a thread stack")
    for name, label, allocated, size in rows:
        table.row(label, f"{allocated:.0f} B", f"{size} B", f"{100 * allocated / stack:.3f}%")
        workbook.metric(f"{name}_bytes", allocated, "bytes")
        workbook.metric(f"{name}_getsizeof_bytes", size, "bytes")
    table.row("a thread (its stack, reserved)", f"{stack} B", "-", "100.000%")
    table.print()
    print(f"({n} of each alive at once, measured with tracemalloc; {workbook.interpreter()})")
    workbook.metric("thread_stack_bytes", stack, "bytes")

    largest, coroutine, task = max(row[2] for row in rows), rows[3][2], rows[4][2]
    lazy = math.ceil(args.take / PAGE_SIZE) if args.take <= len(seen) else 0  # Pages needed, no more.
    holds = seen == everything and mean == expected and fetched_at_pause == lazy
    holds = holds and largest * 100 < stack and coroutine < task
    return workbook.verdict(
        "the generator yields what the pages hold, its send() averages them; each suspended one is "
        "well under 1% of a thread's stack",
        holds,
        f"{len(seen)} prices, {fetched_at_pause} of {args.pages} pages at the pause, mean {mean / 100:.2f}; "
        f"coroutine {coroutine:.0f} B, task {task:.0f} B, of a {stack >> 20} MiB stack",
    )


if __name__ == "__main__":
    raise SystemExit(main())
