"""At exit, Python waits for non-daemon and pool threads, and kills daemon threads mid-work.

    cargo xtask python ch07/py_threads_at_exit -- --task-ms 300
"""

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import workbook

LAST_LINE = "export: last line"


# ANCHOR: export
def export_report(length, stop):
    """A blocking export in 5 ms steps (a stand-in for writing a report row by row). It
    checks `stop` between steps: a thread cannot be cancelled from outside, only asked."""
    started, rows = time.monotonic(), 0
    while time.monotonic() - started < length and not stop.is_set():
        time.sleep(0.005)
        rows += 1
    print(f"{LAST_LINE}, {rows} rows", flush=True)
# ANCHOR_END: export


# ANCHOR: worker
def worker(how, length):
    """The child process: starts the export on a thread, works 50 ms, and returns from main."""
    stop = threading.Event()
    if how == "pool":
        ThreadPoolExecutor(max_workers=1).submit(export_report, length, stop)  # Never shut down.
    else:
        threading.Thread(target=export_report, args=(length, stop), daemon=how == "daemon").start()
    time.sleep(0.05)
    if how == "stop_flag":
        stop.set()  # Ask first: the interpreter then waits for the thread, which ends within a step.
    print("main returns", flush=True)
# ANCHOR_END: worker


def exit_after_main(how, task_ms):
    """Runs the child; returns how long it took to exit after main returned, and whether the
    export's last line was written."""
    command = [sys.executable, __file__, "--worker", how, str(task_ms)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        while (line := child.stdout.readline()) and line.strip() != "main returns":
            pass
        returned = time.perf_counter()
        child.wait(timeout=3 * task_ms / 1e3 + 5)
        took_ms = (time.perf_counter() - returned) * 1e3
        rest = child.stdout.read()
        return took_ms, LAST_LINE in rest, child.returncode
    finally:
        child.kill()  # On every path: a child still alive past its time is killed.
        child.wait()
        child.stdout.close()


def main():
    if sys.argv[1:2] == ["--worker"]:
        return worker(sys.argv[2], int(sys.argv[3]) / 1e3)
    args = (
        workbook.parser(__doc__)
        .flag("--task-ms", int, 300, 50, 10_000, "how long the export runs if nobody stops it, in ms")
        .parse()
    )
    table = workbook.Table("the export's thread", "exit after main returned", "last line written", "exit code")
    rows = {}
    for label, how in [
        ("threading.Thread()", "thread"),
        ("ThreadPoolExecutor, never shut down", "pool"),
        ("threading.Thread(daemon=True)", "daemon"),
        ("threading.Thread(), stop flag set", "stop_flag"),
    ]:
        took_ms, written, code = exit_after_main(how, args.task_ms)
        table.row(label, f"{took_ms:.1f} ms", "yes" if written else "no", code)
        workbook.metric(f"{how}_exit_ms", took_ms, "ms")
        workbook.metric(f"{how}_last_line", int(written), "")
        rows[how] = (took_ms, written, code)
    table.print()
    print(f"(the export runs {args.task_ms} ms in 5 ms steps; main returns 50 ms after starting it; "
          f"{workbook.interpreter()})")

    # Waiting: at least most of the export's remaining time. Not waiting: under half of that wait
    # (what is left is the interpreter's own shutdown, the same for every row).
    remaining, waited_ms = args.task_ms - 50, min(rows["thread"][0], rows["pool"][0])
    waited = waited_ms >= 0.7 * remaining and rows["thread"][1] and rows["pool"][1]
    killed = rows["daemon"][0] < 0.5 * waited_ms and not rows["daemon"][1]
    stopped = rows["stop_flag"][0] < 0.5 * waited_ms and rows["stop_flag"][1]
    exited = all(code == 0 for _, _, code in rows.values())
    return workbook.verdict(
        "Python waits at exit for non-daemon and pool threads, kills daemon ones; a stop flag ends one",
        waited and killed and stopped and exited,
        f"thread: {rows['thread'][0]:.0f} ms, pool: {rows['pool'][0]:.0f} ms, daemon: {rows['daemon'][0]:.1f} ms "
        f"(last line {'written' if rows['daemon'][1] else 'lost'}), stop flag: {rows['stop_flag'][0]:.1f} ms",
    )


if __name__ == "__main__":
    raise SystemExit(main())
