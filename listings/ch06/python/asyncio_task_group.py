"""One task fails: asyncio.TaskGroup cancels the rest; asyncio.gather lets them run on.

    cargo xtask python ch06/asyncio_task_group -- --unit-ms 10
"""

import asyncio

import workbook

# (symbol, units it takes, whether it succeeds): the Rust listing's five fetches.
FETCHES = [("ACME", 1, True), ("INIT", 2, False), ("GLOBEX", 30, True), ("HOOLI", 30, True), ("UMBRELLA", 30, True)]


# ANCHOR: fetch
async def fetch(tally, symbol, units, ok, unit_s):
    """Sleeps its units, then returns its symbol or raises; counts how it ended."""
    tally["started"] += 1
    try:
        await asyncio.sleep(units * unit_s)
    except asyncio.CancelledError:
        tally["cancelled"] += 1
        raise  # Swallowing it would break the group's cancellation.
    if not ok:
        tally["failed"] += 1
        raise LookupError(f"{symbol}: no such ticker")
    tally["finished"] += 1
    return symbol


async def fetch_all_in_a_group(tally, unit_s):
    """The first exception cancels every other task of the group, then the
    group raises an ExceptionGroup once they have all ended."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(tally, *spec, unit_s)) for spec in FETCHES]
    return [task.result() for task in tasks]


async def fetch_all_gathered(tally, unit_s):
    """The first exception propagates at once; the other tasks are not cancelled."""
    return await asyncio.gather(*(fetch(tally, *spec, unit_s) for spec in FETCHES))
# ANCHOR_END: fetch


async def both(unit_s):
    in_group, gathered = ({"started": 0, "finished": 0, "failed": 0, "cancelled": 0} for _ in range(2))
    try:
        await fetch_all_in_a_group(in_group, unit_s)
    except* LookupError as group_error:
        group_raised = f"ExceptionGroup of {len(group_error.exceptions)}"
    try:
        await fetch_all_gathered(gathered, unit_s)
    except LookupError as error:
        gather_raised = str(error)
    await asyncio.sleep(40 * unit_s)  # Past the slowest fetch: whatever still runs gets to its end.
    return [("TaskGroup", "taskgroup", in_group, group_raised), ("gather", "gather", gathered, gather_raised)]


def main():
    args = workbook.parser(__doc__).flag("--unit-ms", int, 10, 5, 1000, "ACME takes 1 unit, INIT fails after 2, the rest 30").parse()
    table = workbook.Table("collected", "error raised", "started", "finished", "failed", "cancelled")
    counts = []
    for way, name, tally, raised in asyncio.run(both(args.unit_ms / 1000)):
        workbook.metric(f"{name}_finished", tally["finished"], "")
        workbook.metric(f"{name}_cancelled", tally["cancelled"], "")
        row = [tally[k] for k in ("started", "finished", "failed", "cancelled")]
        table.row(way, raised, *row)
        counts.append(row)
    table.print()
    return workbook.verdict(
        "a TaskGroup cancels the 3 fetches still running when one fails; gather lets them finish",
        counts == [[5, 1, 1, 3], [5, 4, 1, 0]],
        f"started, finished, failed, cancelled: TaskGroup {counts[0]}, gather {counts[1]}",
    )


if __name__ == "__main__":
    raise SystemExit(main())
