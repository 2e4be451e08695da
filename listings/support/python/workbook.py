"""What the workbook's Python twins share with its Rust listings.

The Python side of the one protocol between a listing and `cargo xtask
measure` (ARCHITECTURE.md, "API boundary: the listing protocol"): when the
environment variable `WORKBOOK_METRICS` names a file, every metric, series and
the verdict are appended to it as one JSON line each, exactly as
`support::report` writes them. Otherwise they cost nothing and print nothing.

A twin's flags follow the workbook's rule for bad input: one line on stderr
and exit code 2, never a traceback.

    import workbook

    args = workbook.parser(__doc__).flag("--threads", int, 4, 1, 64, "threads to start").parse()
    workbook.metric("wall_ms", 512.3, "ms")
    raise SystemExit(workbook.verdict("four threads are not faster", True, "1.01x"))
"""

import argparse
import contextlib
import ctypes
import functools
import json
import multiprocessing
import os
import re
import resource
import signal
import subprocess
import sys
import time

#: The environment variable that names the file records are appended to.
METRICS_ENV = "WORKBOOK_METRICS"

#: The exit code of each verdict state, the same for every listing.
EXIT_HELD, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_SKIPPED, EXIT_UNCHECKED = 0, 1, 2, 3, 4

_NAME = re.compile(r"^[a-z0-9_]+$")


def _append(record):
    path = os.environ.get(METRICS_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record, ensure_ascii=False) + "\n")


def _check_name(name):
    if not _NAME.match(name):
        raise ValueError(f"metric name {name!r} must be lowercase letters, digits and _")


def metric(name, value, unit):
    """Reports the named figure `value`, in `unit`, for the book to quote."""
    _check_name(name)
    _append({"kind": "metric", "name": name, "value": float(value), "unit": unit})


def series(name, x_unit, y_unit, points):
    """Reports a named curve of (x, y) points, for figures drawn from data."""
    _check_name(name)
    points = [[float(x), float(y)] for x, y in points]
    _append({"kind": "series", "name": name, "x_unit": x_unit, "y_unit": y_unit, "points": points})


def _verdict(state, claim, evidence, line, code):
    print(line)
    _append({"kind": "verdict", "state": state, "claim": claim, "evidence": evidence})
    return code


def verdict(claim, holds, evidence):
    """Prints whether the claim held and returns the exit code that says so."""
    if holds:
        return _verdict("held", claim, evidence, f"claim holds: {claim} ({evidence})", EXIT_HELD)
    return _verdict("failed", claim, evidence, f"CLAIM FAILED: {claim} ({evidence})", EXIT_FAILED)


def skipped(claim, why):
    """The machine lacks what the claim needs (a second core, root): not checked, not failed."""
    return _verdict("skipped", claim, why, f"claim skipped: {claim} ({why})", EXIT_SKIPPED)


def unchecked(claim, why):
    """The flags left nothing to check: said so, never a vacuous "claim holds"."""
    return _verdict("unchecked", claim, why, f"nothing checked: {claim} ({why})", EXIT_UNCHECKED)


def heading(title):
    """Prints a section heading, as the chapter tours do."""
    print(f"\n== {title} ==\n")


class Table:
    """A text table with aligned columns; numeric columns align right."""

    def __init__(self, *header):
        self.header = [str(h) for h in header]
        self.rows = []

    def row(self, *cells):
        cells = [str(c) for c in cells][: len(self.header)]
        self.rows.append(cells + [""] * (len(self.header) - len(cells)))
        return self

    def render(self):
        columns = range(len(self.header))
        widths = [max(len(r[c]) for r in [self.header, *self.rows]) for c in columns]
        numeric = [
            bool(self.rows) and all(r[c][:1] and (r[c][0].isdigit() or r[c][0] in "+-~<>≈") for r in self.rows)
            for c in columns
        ]

        def line(cells):
            padded = [cells[c].rjust(widths[c]) if numeric[c] else cells[c].ljust(widths[c]) for c in columns]
            return "  ".join(padded).rstrip() + "\n"

        return line(self.header) + line(["-" * w for w in widths]) + "".join(line(r) for r in self.rows)

    def print(self):
        print(self.render(), end="")


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        # The workbook's rule: one line on stderr and exit code 2.
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


class parser:
    """Flags with defaults and ranges, declared as data, parsed with one-line errors.

    Each flag is declared once with its type, default, range and help, so a
    twin can both parse its command line and describe its flags.
    """

    def __init__(self, doc):
        claim = (doc or "").strip().splitlines()[0] if doc else ""
        self._parser = _OneLineParser(description=claim)
        self.flags = []

    def flag(self, name, kind, default, low=None, high=None, help=""):
        """A flag `--name` of type `kind` (int, float or str) in [low, high]."""

        def parse(text):
            try:
                value = kind(text)
            except ValueError:
                article = "an" if kind.__name__[0] in "aeiou" else "a"
                raise argparse.ArgumentTypeError(f"invalid value {text!r}: not {article} {kind.__name__}") from None
            if (low is not None and value < low) or (high is not None and value > high):
                raise argparse.ArgumentTypeError(f"invalid value {text!r}: not in {low}..={high}")
            return value

        parse.__name__ = kind.__name__
        self._parser.add_argument(name, type=parse, default=default, help=f"{help} [default: {default}]")
        kinds = {"int": "i64", "float": "f64", "str": "string"}
        self.flags.append({
            "name": name.lstrip("-"), "type": kinds.get(kind.__name__, "other"), "list": False,
            "default": None if default is None else str(default), "min": low, "max": high,
            "choices": [], "help": help,
        })
        return self

    def parse(self, argv=None):
        """The flags; given first, --describe-flags prints them as JSON and
        --check-flags checks the rest, each then exiting 0 (or 2) at once,
        as a Rust listing does (support::cli)."""
        argv = sys.argv[1:] if argv is None else argv
        if argv[:1] == ["--describe-flags"]:
            print(json.dumps(self.flags))
            raise SystemExit(0)
        if argv[:1] == ["--check-flags"]:
            self._parser.parse_args(argv[1:])
            raise SystemExit(0)
        return self._parser.parse_args(argv)


def cores_available():
    """The cores this process may run on: its affinity mask, capped by a cgroup CPU quota."""
    cores = len(os.sched_getaffinity(0))
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="utf-8") as file:
            quota, period = file.read().split()
        if quota != "max":
            cores = max(1, min(cores, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return cores


def peak_rss_bytes():
    """The process's peak resident memory (VmHWM), in bytes."""
    with open("/proc/self/status", encoding="utf-8") as file:
        for line in file:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def current_rss_bytes():
    """The process's resident memory now (VmRSS), in bytes."""
    with open("/proc/self/status", encoding="utf-8") as file:
        for line in file:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def interpreter():
    """The interpreter's version, and whether its GIL is enabled, in words."""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return f"CPython {sys.version.split()[0]}" + ("" if gil else " (free-threaded, GIL disabled)")


#: Where `cargo xtask` puts the path of the workbook's latency server binary.
LATENCY_SERVER_ENV = "WORKBOOK_LATENCY_SERVER"


def _latency_server_binary():
    named = os.environ.get(LATENCY_SERVER_ENV)
    if named:
        return named
    target = os.path.join(os.path.dirname(__file__), "..", "..", "target")
    for profile in ("release", "debug"):
        path = os.path.abspath(os.path.join(target, profile, "latency_server"))
        if os.access(path, os.X_OK):
            return path
    sys.stderr.write(
        "error: the latency server is not built; run this twin with `cargo xtask python ID`, "
        "or build it first: cargo build --release -p support --bin latency_server\n"
    )
    raise SystemExit(EXIT_BAD_INPUT)


def die_with(parent):
    """First thing in a child process: the kernel kills it when `parent` dies, even by SIGKILL.

    Linux's PR_SET_PDEATHSIG. A child blocked on a pipe it holds both ends of
    would never see end-of-file, and a server would outlive a killed twin.
    """
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # The parent died before the line above.
        os._exit(1)


def die_with_parent():
    """A pool worker's initializer: it dies with the program that made the pool.

    A forkserver's workers are the forkserver's children, and die with it.
    """
    forkserver = multiprocessing.get_start_method() == "forkserver"
    die_with(os.getppid() if forkserver else multiprocessing.parent_process().pid)


def cpu_seconds():
    """CPU seconds used by this process (all its threads) and by the children it has reaped."""
    return sum(sum(resource.getrusage(who)[:2]) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def run_child(flag, *args, timeout):
    """Runs this twin again, in a fresh interpreter, as `twin FLAG PID ARGS...`; returns the JSON it prints.

    A child in a fresh interpreter is how a twin keeps one experiment (gevent's
    monkey-patching, say) out of the others. The child starts with
    `child_args(FLAG)`, which ties its life to this process; it is killed
    after `timeout` seconds, and a child that fails fails this twin with its stderr.
    """
    command = [sys.executable, sys.argv[0], flag, str(os.getpid()), *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        child = " ".join(command[2:])
        raise RuntimeError(f"the child `{child}` failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def child_args(flag):
    """In a child started by `run_child(FLAG, ...)`: its ARGS, once it is set to die with its parent.

    Anywhere else (the command line does not start with FLAG): None.
    """
    if sys.argv[1:2] != [flag]:
        return None
    die_with(int(sys.argv[2]))
    return sys.argv[3:]


@contextlib.contextmanager
def latency_server(latency_ms, payload_bytes=1024, seconds=600):
    """The same loopback latency server the Rust listings use, started for this block.

    Yields its base URL, `http://127.0.0.1:PORT`; the server is stopped when
    the block ends, however it ends, and dies with this process if it is killed.
    """
    command = [
        _latency_server_binary(),
        "--latency-ms", str(latency_ms),
        "--payload-bytes", str(payload_bytes),
        "--seconds", str(seconds),
    ]
    dies_with_us = functools.partial(die_with, os.getpid())
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=dies_with_us)
    try:
        first = server.stdout.readline().decode()
        found = re.search(r"http://(127\.0\.0\.1:\d+)", first)
        if not found:
            raise RuntimeError(f"the latency server did not start: {first!r}")
        yield f"http://{found.group(1)}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def clock():
    """Seconds from a monotonic clock, for wall times."""
    return time.perf_counter()
