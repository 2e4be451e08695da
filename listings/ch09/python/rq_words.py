"""RQ workers on Redis overlap their waits too, until a fork per job fills the cores.

    cargo xtask python ch09/rq_words -- --jobs 48 --max-workers 8
"""

import contextlib
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from redis import Redis
from rq import Queue, Worker

import workbook


# ANCHOR: job
def count_words(url):
    """The article's job, as an RQ task: fetch the page and count its words
    (runs of letters, digits and dots, as the Rust worker counts them)."""
    with urllib.request.urlopen(url) as response:
        body = response.read().decode()
    words = "".join(c if c.isalnum() or c == "." else " " for c in body).split()
    return len(words)
# ANCHOR_END: job


# ANCHOR: queue
def work(socket):
    """A worker process: RQ's own Worker, which forks a "work horse" per job."""
    redis = Redis(unix_socket_path=socket)
    Worker([Queue(connection=redis)], connection=redis).work(logging_level="ERROR")


def run_queue(socket, api, jobs, workers):
    """Starts `workers` worker processes, enqueues the jobs once all are
    registered, and waits for every result. Returns the wall time, the
    workers' CPU ms per job (their horses' included), and the jobs."""
    redis = Redis(unix_socket_path=socket)
    redis.flushall()
    me = [sys.executable, sys.argv[0], "--worker", str(os.getpid()), socket]
    started = [subprocess.Popen(me) for _ in range(workers)]
    try:
        while Worker.count(connection=redis) < workers:
            time.sleep(0.005)
        queue = Queue(connection=redis)
        pages = [f"{api}/ticker/ACME?page={page}" for page in range(1, jobs + 1)]
        begun, cpu = time.perf_counter(), sum(cpu_ms(worker.pid) for worker in started)
        # The function by name: RQ refuses one from __main__, which a worker cannot import.
        enqueued = queue.enqueue_many([Queue.prepare_data("rq_words.count_words", (p,)) for p in pages])
        for job in enqueued:  # Each result, blocking (RQ reads the job's result stream).
            job.latest_result(timeout=30)
        wall, cpu = time.perf_counter() - begun, sum(cpu_ms(w.pid) for w in started) - cpu
    finally:
        # Every result is in: the workers are idle, or (on an error) need not
        # finish. A deployment sends SIGTERM and waits for the job at hand.
        for worker in started:
            worker.kill()
            worker.wait()
    return wall, cpu / jobs, [queue.fetch_job(job.id) for job in enqueued]
# ANCHOR_END: queue


@contextlib.contextmanager
def redis_server():
    """Debian's redis-server on a Unix socket in a temporary folder, no persistence; dies with us."""
    with tempfile.TemporaryDirectory() as folder:
        socket = os.path.join(folder, "redis.sock")
        command = ["redis-server", "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700"]
        command += ["--save", "", "--appendonly", "no", "--dir", folder, "--loglevel", "warning"]
        dies_with_us = functools.partial(workbook.die_with, os.getpid())
        try:
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, preexec_fn=dies_with_us)
        except FileNotFoundError:
            sys.stderr.write("error: redis-server is missing: apt-get install redis-server\n")
            raise SystemExit(workbook.EXIT_BAD_INPUT) from None
        try:
            for _ in range(1000):  # Until it answers PING, 5 s at most.
                with contextlib.suppress(OSError, Exception):
                    if Redis(unix_socket_path=socket).ping():
                        break
                time.sleep(0.005)
            yield server, socket
        finally:
            server.kill()
            server.wait()


def cpu_ms(pid):
    """A process's CPU time so far, with that of the children it has reaped, in ms (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return sum(int(ticks) for ticks in fields[11:15]) * 1e3 / os.sysconf("SC_CLK_TCK")


def main():
    worker = workbook.child_args("--worker")
    if worker is not None:
        return work(worker[0])
    args = (
        workbook.parser(__doc__)
        .flag("--jobs", int, 48, 1, 10_000, "jobs enqueued, for each worker count")
        .flag("--max-workers", int, 8, 1, 32, "worker counts 1, 2, 4... up to this")
        .flag("--latency-ms", int, 50, 5, 1000, "the API's latency per page, in milliseconds")
        .parse()
    )
    counts = [k for k in (1, 2, 4, 8, 16, 32) if k <= args.max_workers]
    table = workbook.Table("workers", "jobs/s", "ideal", "in a worker", "CPU per job")
    rates, ideals, done = [], [], 0
    with redis_server() as (server, socket), workbook.latency_server(args.latency_ms) as api:
        version = Redis(unix_socket_path=socket).info("server")["redis_version"]
        cpu_before = cpu_ms(server.pid)
        for k in counts:
            wall, cpu_used, jobs = run_queue(socket, api, args.jobs, k)
            done += sum(job.get_status() == "finished" and job.return_value() > 0 for job in jobs)
            rate, ideal = args.jobs / wall, args.jobs / (-(-args.jobs // k) * args.latency_ms / 1e3)
            in_worker = statistics.median((j.ended_at - j.started_at).total_seconds() * 1e3 for j in jobs)
            table.row(k, f"{rate:.0f} jobs/s", f"{ideal:.0f} jobs/s", f"{in_worker:.1f} ms", f"{cpu_used:.1f} ms")
            workbook.metric(f"jobs_per_s_{k}", rate, "jobs/s")
            workbook.metric(f"ideal_jobs_per_s_{k}", ideal, "jobs/s")
            workbook.metric(f"job_ms_{k}", in_worker, "ms")
            workbook.metric(f"cpu_ms_per_job_{k}", cpu_used, "ms")
            rates.append((k, rate))
            ideals.append((k, ideal))
        cpu = cpu_ms(server.pid) - cpu_before
    per_job = cpu * 1e3 / (args.jobs * len(counts))
    workbook.metric("redis_cpu_ms", cpu, "ms")
    workbook.metric("redis_cpu_us_per_job", per_job, "µs")
    table.print()
    print(f"(redis-server {version} on a Unix socket; RQ workers, {workbook.interpreter()}; "
          f"{args.jobs} jobs per row, each page {args.latency_ms} ms away)")
    print(f"redis-server's CPU time over every row: {cpu:.1f} ms, {per_job:.0f} µs per job")
    workbook.series("jobs_per_s_by_workers", "workers", "jobs/s", rates)
    workbook.series("ideal_jobs_per_s_by_workers", "workers", "jobs/s", ideals)
    claim = "RQ workers overlap their waits: the most workers do at least 1.5x one worker's jobs/s"
    evidence = "jobs/s by workers: " + ", ".join(f"{r:.0f} with {k}" for k, r in rates)
    if done != args.jobs * len(counts):
        return workbook.verdict(claim, False, f"{done} jobs finished of {args.jobs * len(counts)}")
    if len(rates) < 2:
        return workbook.unchecked(claim, f"one worker count, nothing to compare: {evidence}")
    return workbook.verdict(claim, rates[-1][1] >= 1.5 * rates[0][1], evidence)

if __name__ == "__main__":
    raise SystemExit(main())
