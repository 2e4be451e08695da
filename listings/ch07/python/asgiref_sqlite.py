"""sync_to_async(thread_sensitive=True) keeps a sqlite3 connection on one thread; False breaks it.

    cargo xtask python ch07/asgiref_sqlite -- --reads 20000 --tasks 8
"""

import asyncio
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from asgiref.sync import sync_to_async

import workbook


# ANCHOR: store
class QuoteStore:
    """A sync data layer, as Django's ORM is: it opens its connection on first use, on the
    thread that uses it. sqlite3 binds a connection to that thread (check_same_thread=True,
    the default) and refuses it to any other with a ProgrammingError."""

    def __init__(self, path, one_per_thread=False):
        self.path, self.shared = path, None
        self.local = threading.local() if one_per_thread else None

    def connection(self):
        if self.local is not None:  # One connection for each thread that asks: a pool, in effect.
            if not hasattr(self.local, "connection"):
                self.local.connection = sqlite3.connect(self.path)
            return self.local.connection
        if self.shared is None:
            self.shared = sqlite3.connect(self.path)
        return self.shared

    def read_quote(self, i):
        query = "SELECT price FROM quotes WHERE symbol = ? AND day = ?"
        (price,) = self.connection().execute(query, (f"SYM{i % 100}", i * 7 % 250)).fetchone()
        return price, threading.get_ident()


async def load(read_quote, reads, tasks):
    """`reads` point reads from `tasks` concurrent tasks, each awaiting its reads one by one."""

    async def client(task):
        return [await read_quote(i) for i in range(task, reads, tasks)]

    batches = await asyncio.gather(*(client(task) for task in range(tasks)))
    return [answer for batch in batches for answer in batch]
# ANCHOR_END: store


def make_quotes(path):
    """Rust's sqlite_actor table: 100 symbols x 250 days of made-up prices."""
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE quotes (symbol TEXT, day INTEGER, price REAL, PRIMARY KEY (symbol, day))")
        rows = ((f"SYM{s}", d, 100 + (s * 31 + d * 17) % 100 / 4) for s in range(100) for d in range(250))
        setup.executemany("INSERT INTO quotes VALUES (?, ?, ?)", rows)
    setup.close()


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--reads", int, 20_000, 1, 10_000_000, "how many point reads in all")
        .flag("--tasks", int, 8, 1, 256, "how many tasks send queries at once")
        .parse()
    )
    expected = sum(100 + ((i % 100) * 31 + (i * 7 % 250) * 17) % 100 / 4 for i in range(args.reads))
    table = workbook.Table("reads through", "queries/s", "threads", "ProgrammingErrors", "sum of answers")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "quotes.db"
        make_quotes(path)
        shared, per_thread = QuoteStore(path), QuoteStore(path, one_per_thread=True)
        cases = [
            ("thread_sensitive=True", "sensitive", sync_to_async(shared.read_quote, thread_sensitive=True)),
            # The same store, whose connection the thread-sensitive thread opened, on the default pool.
            ("thread_sensitive=False", "insensitive", sync_to_async(shared.read_quote, thread_sensitive=False)),
            ("False, a connection per thread", "per_thread",
             sync_to_async(per_thread.read_quote, thread_sensitive=False)),
        ]
        results = {}
        for label, name, read_quote in cases:

            async def counted(i, read_quote=read_quote):
                try:
                    return await read_quote(i)
                except sqlite3.ProgrammingError:
                    return None  # "SQLite objects created in a thread can only be used in that same thread"

            started = time.perf_counter()
            answers = asyncio.run(load(counted, args.reads, args.tasks))
            per_s = args.reads / (time.perf_counter() - started)
            served = [answer for answer in answers if answer is not None]
            total, threads = sum(price for price, _ in served), len({thread for _, thread in served})
            errors = len(answers) - len(served)
            table.row(label, f"{per_s:.0f}", threads, errors, f"{total:.1f}")
            workbook.metric(f"reads_{name}_per_s", per_s, "queries/s")
            workbook.metric(f"reads_{name}_threads", threads, "")
            workbook.metric(f"reads_{name}_errors", errors, "")
            results[name] = (total, threads, errors)
    table.print()
    print(f"({args.reads} reads from {args.tasks} tasks; {workbook.interpreter()}, sqlite {sqlite3.sqlite_version})")

    same = lambda total: abs(total - expected) < 1e-6 * expected  # noqa: E731
    (sensitive, one, none_failed), (_, _, failed), (pooled, threads, pool_failed) = results.values()
    holds = same(sensitive) and one == 1 and none_failed == 0 and failed == args.reads
    holds = holds and same(pooled) and pool_failed == 0
    return workbook.verdict(
        "thread_sensitive=True runs every call on one thread, where the connection works; "
        "thread_sensitive=False moves it to other threads, and sqlite3 refuses every call",
        holds,
        f"{args.reads} reads: {one} thread and {none_failed} errors when sensitive, "
        f"{failed} ProgrammingErrors when not; "
        f"a connection per thread: {threads} threads, {pool_failed} errors",
    )


if __name__ == "__main__":
    raise SystemExit(main())
