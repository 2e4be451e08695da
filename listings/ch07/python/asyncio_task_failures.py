"""An asyncio task's exception reaches whoever awaits it; an unawaited task's and a thread's, stderr.

    cargo xtask python ch07/asyncio_task_failures -- --symbols ACME,GLOBEX,N/A,INITECH,UMBRELLA
"""

import asyncio
import json
import os
import subprocess
import sys
import threading

import workbook

SAVED = []  # The quotes saved, by every task or thread of one child.


# ANCHOR: quote
async def fetch_quote(symbol):
    """Parses the quote the (simulated) API sent; float() raises on one that is not a number."""
    await asyncio.sleep(0)  # Stands in for the network call.
    SAVED.append(float("n/a" if symbol == "N/A" else f"{100 + len(symbol)}.25"))


def fetch_quote_blocking(symbol):
    """The same on a thread."""
    SAVED.append(float("n/a" if symbol == "N/A" else f"{100 + len(symbol)}.25"))
# ANCHOR_END: quote


# ANCHOR: cases
async def gathered(symbols):
    tasks = [asyncio.create_task(fetch_quote(s)) for s in symbols]
    try:
        await asyncio.gather(*tasks)  # Re-raises the first exception; the others run on.
    except ValueError as error:
        print(f"gather raised: {error!r}")
        await asyncio.wait(tasks)  # The others ran on: let them finish, and look at each.
    return sum(task.exception() is not None for task in tasks)


async def returned(symbols):
    results = await asyncio.gather(*(fetch_quote(s) for s in symbols), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    print(f"gather returned {len(failures)} exception(s): {failures!r}")
    return len(failures)


async def never_awaited(symbols):
    background = set()  # The asyncio docs' idiom for fire and forget: keep a reference...
    for symbol in symbols:
        task = asyncio.create_task(fetch_quote(symbol))
        background.add(task)
        task.add_done_callback(background.discard)  # ...and drop it when the task is done.
    while background:
        await asyncio.sleep(0.001)
    return 0  # Nothing here ever sees the exception.


def threads(symbols):
    workers = [threading.Thread(target=fetch_quote_blocking, args=(s,), name=f"quote-{s}") for s in symbols]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()  # Returns None, whether the thread raised or not.
    return 0
# ANCHOR_END: cases


CASES = {
    "await gather(...)": ("gathered", lambda s: asyncio.run(gathered(s))),
    "gather(..., return_exceptions=True)": ("returned", lambda s: asyncio.run(returned(s))),
    "create_task, never awaited": ("never_awaited", lambda s: asyncio.run(never_awaited(s))),
    "threading.Thread, joined": ("thread", threads),
}


def run_case(name, symbols):
    """One case in a fresh interpreter: its stdout lines, stderr lines, and exit code."""
    command = [sys.executable, sys.argv[0], "--child", str(os.getpid()), name, ",".join(symbols)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return done.stdout.splitlines(), done.stderr.splitlines(), done.returncode


def main():
    child = workbook.child_args("--child")
    if child is not None:
        name, symbols = child[0], child[1].split(",")
        caught = next(run for key, run in CASES.values() if key == name)(symbols)
        print(json.dumps({"saved": len(SAVED), "caught": caught}))
        return 0
    args = (
        workbook.parser(__doc__)
        .flag("--symbols", str, "ACME,GLOBEX,N/A,INITECH,UMBRELLA", help="symbols; N/A is not a number")
        .parse()
    )
    symbols = [s for s in args.symbols.split(",") if s]
    claim = "an asyncio task's exception reaches whoever awaits it; an unawaited task's and a thread's, stderr"
    bad = symbols.count("N/A")
    if bad == 0:
        return workbook.unchecked(claim, "no symbol was N/A, so nothing raised")
    table = workbook.Table("case", "quotes saved", "exceptions caught", "reports on stderr", "exit")
    holds = True
    for label, (name, _) in CASES.items():
        stdout, stderr, code = run_case(name, symbols)
        print(f"{label}, the child's stdout and stderr (first and last lines):")
        for line in stdout[:-1] + stderr[:1] + stderr[1:][-1:]:
            print(f"  {line}")
        counts = json.loads(stdout[-1])
        reports = sum(line in ("Task exception was never retrieved",) or line.startswith("Exception in thread")
                      for line in stderr)
        for key, value in [("saved", counts["saved"]), ("caught", counts["caught"]), ("stderr_reports", reports)]:
            workbook.metric(f"{name}_{key}", value, "")
        table.row(label, f"{counts['saved']} of {len(symbols)}", counts["caught"], reports, code)
        awaited = name in ("gathered", "returned")
        holds &= counts["saved"] == len(symbols) - bad and code == 0
        holds &= counts["caught"] == (bad if awaited else 0) and reports == (0 if awaited else bad)
    table.print()
    print(f"({workbook.interpreter()})")
    return workbook.verdict(claim, holds, f"{len(symbols) - bad} of {len(symbols)} saved in every case; "
                            f"caught when awaited, else {bad} report(s) on stderr")


if __name__ == "__main__":
    raise SystemExit(main())
