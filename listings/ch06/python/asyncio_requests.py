"""From one thread, 10,000 concurrent requests to a 1 s API take one latency plus the client's CPU.

    cargo xtask python ch06/asyncio_requests -- --requests 10000 --latency-ms 1000
"""

import asyncio
import resource
import time
from urllib.parse import urlsplit

import aiohttp
import uvloop

import workbook


# ANCHOR: streams
async def fetch_raw(host, port, page):
    """One GET over asyncio's streams, the request written by hand; the server closes when done."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /ticker/ACME?page={page} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    response = await reader.read()  # Everything, until the server closes the connection.
    writer.close()
    await writer.wait_closed()
    assert response.startswith(b"HTTP/1.1 200 OK"), page
    return len(response)


async def fetch_all_raw(base, requests):
    url = urlsplit(base)
    return await asyncio.gather(*(fetch_raw(url.hostname, url.port, page) for page in range(requests)))
# ANCHOR_END: streams


# ANCHOR: aiohttp
async def fetch_all_aiohttp(base, requests):
    """The same requests with aiohttp. Its connector allows 100 connections by default: the
    other requests would queue for one. Here the limit lets every request go at once."""
    connector = aiohttp.TCPConnector(limit=requests)
    async with aiohttp.ClientSession(base, connector=connector) as session:

        async def fetch(page):
            async with session.get("/ticker/ACME", params={"page": page}) as response:
                response.raise_for_status()
                return len(await response.read())

        return await asyncio.gather(*(fetch(page) for page in range(requests)))
# ANCHOR_END: aiohttp


def raise_fd_limit():
    """Each connection is a file descriptor; the usual soft limit is 1024. Raise it to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def dropped_and_retried():
    """The kernel's count of connections dropped for a full accept queue, and of SYNs sent again
    (machine-wide, from /proc/net/netstat)."""
    with open("/proc/net/netstat", encoding="utf-8") as netstat:
        names, values = [line.split() for line in netstat if line.startswith("TcpExt:")]
    counters = dict(zip(names[1:], map(int, values[1:])))
    return counters.get("ListenOverflows", 0), counters.get("TCPSynRetrans", 0)


def main():
    args = (
        workbook.parser(__doc__)
        .flag("--requests", int, 10_000, 1, 60_000, "how many requests to send at once")
        .flag("--latency-ms", int, 1000, 10, 10_000, "the API's latency, in milliseconds")
        .parse()
    )
    limit = raise_fd_limit()
    requests = min(args.requests, max(1, limit - 100))
    if requests < args.requests:
        print(f"note: this process may open {limit} files: {requests} requests, not {args.requests}")
    latency = args.latency_ms
    cases = [
        ("asyncio streams", "streams", asyncio.run, fetch_all_raw),
        ("asyncio streams on uvloop", "streams_uvloop", uvloop.run, fetch_all_raw),
        ("aiohttp", "aiohttp", asyncio.run, fetch_all_aiohttp),
        ("aiohttp on uvloop", "aiohttp_uvloop", uvloop.run, fetch_all_aiohttp),
    ]
    table = workbook.Table("client", "requests", "wall", "overhead", "latencies", "CPU", "overflows", "SYNs resent")
    walls, cpus = {}, {}
    with workbook.latency_server(latency_ms=latency) as base:
        for label, name, run, fetch_all in cases:
            started, cpu, kernel = time.perf_counter(), time.process_time(), dropped_and_retried()
            sizes = run(fetch_all(base, requests))
            wall_ms = (time.perf_counter() - started) * 1e3
            cpu_ms = (time.process_time() - cpu) * 1e3
            overflows, syn_retries = (after - before for after, before in zip(dropped_and_retried(), kernel))
            if len(sizes) != requests or min(sizes) <= 0:
                wall_ms = float("inf")  # Not every response came: the claim fails below.
            walls[name], cpus[name] = wall_ms, cpu_ms
            cells = f"{wall_ms:.0f} ms", f"{wall_ms - latency:.0f} ms", f"{wall_ms / latency:.2f}", f"{cpu_ms:.0f} ms"
            table.row(label, requests, *cells, overflows, syn_retries)
            workbook.metric(f"{name}_wall_ms", wall_ms, "ms")
            workbook.metric(f"{name}_overhead_ms", wall_ms - latency, "ms")
            workbook.metric(f"{name}_cpu_ms", cpu_ms, "ms")
            workbook.metric(f"{name}_accept_queue_overflows", overflows, "connections")
    table.print()
    print(f"(latency {latency} ms; CPU: this process's; kernel counters: machine-wide; {workbook.interpreter()})")
    print(f"open files allowed per process: {limit} (soft limit raised to the hard limit)")
    workbook.metric("fd_limit", limit, "files")
    workbook.metric("requests", requests, "requests")
    # Every connection is a handshake, a task, a socket and a timer, on both sides: the client's
    # CPU time grows with N, and so does the overhead. Checked: far below N latencies (a twentieth);
    # the overhead against the CPU time is reported, since a busy machine stretches the wall time.
    slowest = max(walls, key=walls.get)
    label = {name: label for label, name, _, _ in cases}[slowest]
    holds = all(latency <= wall < max(2 * latency, requests * latency / 20) for wall in walls.values())
    return workbook.verdict(
        "N concurrent requests from one thread take far less than N latencies: one, plus the client's CPU time",
        holds,
        f"{requests} x {latency} ms: streams {walls['streams']:.0f} ms ({cpus['streams']:.0f} ms CPU), "
        f"slowest {label} {walls[slowest]:.0f} ms ({cpus[slowest]:.0f} ms CPU); "
        f"one after another {requests * latency / 1e3:.0f} s",
    )


if __name__ == "__main__":
    raise SystemExit(main())
