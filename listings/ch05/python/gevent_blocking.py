"""gevent's green threads take turns at a blocking call; after monkey-patching, they overlap.

    cargo xtask python ch05/gevent_blocking -- --greenlets 10 --latency-ms 100
"""

import sys

# ANCHOR: patch
# Monkey-patching replaces socket, time.sleep, ssl, threading... with cooperative versions.
# It must come first, before any other import can take a reference to the blocking ones.
if sys.argv[1:2] == ["--child"] and sys.argv[3:4] == ["patched"]:  # How workbook.run_child runs it.
    from gevent import monkey

    monkey.patch_all()
# ANCHOR_END: patch

import json  # noqa: E402 (after the patch, on purpose)
import time  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402

import workbook  # noqa: E402


# ANCHOR: greenlets
def quote_after_sleep(page, latency):
    time.sleep(latency)  # Blocking, unless patched: then it yields to the other greenlets.
    return page


def fetch_quote(page, base):
    response = requests.get(f"{base}/ticker/ACME?page={page}", timeout=30)  # A blocking socket, unless patched.
    response.raise_for_status()
    return len(response.content)


def all_at_once(call, greenlets, *args):
    """One greenlet per call, spawned at once, then joined: the gevent way to run them concurrently."""
    spawned = [gevent.spawn(call, page, *args) for page in range(greenlets)]
    gevent.joinall(spawned, raise_error=True)
    return [greenlet.value for greenlet in spawned]
# ANCHOR_END: greenlets


def child(base, greenlets, latency):
    """Runs in its own process, patched or not; prints the wall time of each kind of call."""
    walls = []
    for call, arg in ((quote_after_sleep, latency), (fetch_quote, base)):
        started = time.perf_counter()
        results = all_at_once(call, greenlets, arg)
        assert len(results) == greenlets and all(results[1:]), results
        walls.append((time.perf_counter() - started) * 1e3)
    print(json.dumps(walls))


def in_child(variant, base, greenlets, latency_ms):
    limit = 3 * greenlets * latency_ms / 1e3 + 30  # Generous; the child is killed past it.
    return workbook.run_child("--child", variant, base, greenlets, latency_ms, timeout=limit)


def main():
    if (given := workbook.child_args("--child")) is not None:  # [variant, base, greenlets, latency_ms]
        return child(given[1], int(given[2]), int(given[3]) / 1e3)
    args = (
        workbook.parser(__doc__)
        .flag("--greenlets", int, 10, 4, 1000, "how many green threads make the call at once")
        .flag("--latency-ms", int, 100, 10, 1000, "how long each call takes: the sleep, and the API's latency")
        .parse()
    )
    n, latency = args.greenlets, args.latency_ms
    table = workbook.Table("each greenlet calls", "unpatched", "after patch_all()", "latencies, unpatched", "patched")
    walls = {}
    with workbook.latency_server(latency_ms=latency) as base:
        unpatched, patched = in_child("unpatched", base, n, latency), in_child("patched", base, n, latency)
    for i, (label, name) in enumerate([("time.sleep", "sleep"), ("requests.get", "fetch")]):
        walls[name] = unpatched[i], patched[i]
        table.row(label, f"{unpatched[i]:.0f} ms", f"{patched[i]:.0f} ms",
                  f"{unpatched[i] / latency:.1f}", f"{patched[i] / latency:.1f}")
        workbook.metric(f"{name}_unpatched_ms", unpatched[i], "ms")
        workbook.metric(f"{name}_patched_ms", patched[i], "ms")
        workbook.metric(f"{name}_speedup", unpatched[i] / patched[i], "x")
    table.print()
    print(f"({n} greenlets, {latency} ms each call; {workbook.interpreter()}, gevent {gevent.__version__})")

    # Unpatched, each call blocks the one OS thread, so the greenlets take turns: about N
    # latencies. Patched, they wait together: far fewer. Margins absorb a busy machine.
    one_by_one = all(before >= 0.8 * n * latency for before, _ in walls.values())
    overlap = all(after < 0.5 * before for before, after in walls.values())
    return workbook.verdict(
        f"unpatched, {n} greenlets' blocking calls take about {n} latencies; after patch_all(), far fewer",
        one_by_one and overlap,
        f"time.sleep: {walls['sleep'][0]:.0f} ms, then {walls['sleep'][1]:.0f} ms; "
        f"requests.get: {walls['fetch'][0]:.0f} ms, then {walls['fetch'][1]:.0f} ms",
    )


if __name__ == "__main__":
    raise SystemExit(main())
