"""The scale-out mode under load: 10,000 jobs in flight, submit throughput, retrieve latency, memory.

Starts a deployment on loopback exactly as docs/deploy.md describes it: 2 × ``reelay serve`` (no
in-process workers) + 2 × ``reelay worker``, a throwaway PostgreSQL database (procrastinate in it),
moto's S3 server, and a slow fake OpenAI-compatible provider (jobs take an hour, so all stay in
flight). Then:
1. submits 10,000 jobs through both APIs (64 concurrent clients) → jobs/s, then waits until the
   fake provider itself counts all 10,000 generating;
2. sends ``GET /v1/videos/{id}`` open-loop at 500 requests/s for 20 s (then at every other
   ``--rate`` given), spread over both APIs, latency counted from each request's scheduled start →
   p50 / p99, and the CPU each process spent per GET (where the 2 cores go), while the workers'
   relays poll all 10,000 upstream jobs (every 10 s, as the fake asks);
3. reads the resident memory (VmRSS) of every process.
The GETs come from bench/loadgen.py (raw keep-alive HTTP/1.1): httpx would take half a core itself.
Prints the machine, the date and the figures. Bars (issue 5): p99 ≤ 50 ms, ≤ 300 MB per process.

    cd bench && python scale.py [--jobs 10000] [--rate 500 --rate 250 …] [--seconds 20] [--worker-concurrency 100]
                          [--cancel-check-seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import random
import signal
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.* helpers

from tests.scale.cluster import Cluster, process_tree, rss_bytes

from deployment import slow_provider_deployment  # bench/deployment.py
from loadgen import percentile, run_open_loop  # bench/loadgen.py
from machine import cpu_model  # bench/machine.py (scripts run from bench/)


async def submit_all(urls: list[str], jobs: int, clients: int) -> tuple[list[str], list[str], float]:
    ids: list[str] = []
    errors: list[str] = []
    counter = iter(range(jobs))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(http: httpx.AsyncClient) -> None:
        for n in counter:
            body = {"model": "wan2.2-t2v", "prompt": f"bench job {n}", "seconds": "1"}
            try:
                response = await http.post(f"{urls[n % len(urls)]}/v1/videos", json=body)
                response.raise_for_status()
            except httpx.HTTPError as error:  # counted, not retried: a retried POST could create twice
                errors.append(f"{type(error).__name__}: {error}")
                continue
            ids.append(response.json()["id"])

    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(http) for _ in range(clients)))
        return ids, errors, time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of every PostgreSQL process, by pid (backends come and go)."""
    seconds = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().startswith("postgres"):
                seconds[f"postgres:{proc.name}"] = cpu_seconds(int(proc.name))
        except (OSError, ValueError, IndexError):  # a backend that ended while we looked
            continue
    return seconds


def cpu_report(cluster: Cluster) -> dict[str, float]:
    """CPU seconds so far of each Reelay process (with its children), PostgreSQL and this client."""
    seconds = {}
    for proc in cluster.procs:
        try:
            seconds[proc.name] = sum(cpu_seconds(pid) for pid in process_tree(proc.popen.pid))
        except OSError:
            seconds[proc.name] = 0.0
    seconds.update(postgres_cpu_seconds())
    seconds["load generator"] = time.process_time()
    return seconds


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds spent between two reports; PostgreSQL's processes summed (a backend that exited
    in between is not counted, so PostgreSQL's figure is a floor)."""
    spent: dict[str, float] = {}
    for name, seconds in after.items():
        label = "postgres" if name.startswith("postgres:") else name
        spent[label] = spent.get(label, 0.0) + max(0.0, seconds - before.get(name, 0.0))
    return spent


def memory_report(cluster: Cluster) -> list[tuple[str, int]]:
    rows = []
    for proc in cluster.procs:
        for depth, pid in enumerate(process_tree(proc.popen.pid)):
            rows.append((proc.name if depth == 0 else f"{proc.name} (media pool child)", rss_bytes(pid)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rate", type=float, action="append", help="GETs per second (repeat for several; 500)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--worker-concurrency", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (0: measure the APIs alone)")
    parser.add_argument("--cancel-check-seconds", type=float, default=2.0, help="REELAY_CANCEL_CHECK_SECONDS")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (processes, database) on kill
    print(f"# bench/scale.py — {datetime.date.today().isoformat()}")
    print(
        "load average at start: {:.2f} {:.2f} {:.2f} (other work on this machine skews the figures)".format(
            *os.getloadavg()
        )
    )
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with slow_provider_deployment(REELAY_CANCEL_CHECK_SECONDS=str(args.cancel_check_seconds)) as (cluster, fake):
        apis = [cluster.api(0), cluster.api(1)]
        workers = [cluster.worker(i, args.worker_concurrency) for i in range(args.workers)]
        cluster.wait_ready(fake, "/_stats")
        for api in apis:
            cluster.wait_ready(api, "/healthz")
        urls = [str(api.url) for api in apis]
        print(
            f"deployment: 2 API processes, {args.workers} workers × {args.worker_concurrency} concurrent jobs "
            f"(cancellation checked every {args.cancel_check_seconds:g} s), PostgreSQL (procrastinate), moto S3, "
            "fake provider (jobs take 1 h)"
        )

        ids, errors, elapsed = asyncio.run(submit_all(urls, args.jobs, args.clients))
        print(
            f"submit: {len(ids)} jobs in {elapsed:.1f} s = {len(ids) / elapsed:.0f} jobs/s "
            f"({args.clients} concurrent clients, {len(errors)} failed{': ' + errors[0] if errors else ''})"
        )
        # Every job must reach the provider: a waiting job holds no worker slot (the relay), so the
        # workers' 2 × concurrency is no ceiling. Counted by the fake itself.
        started = time.perf_counter()
        while (stats := httpx.get(f"{fake.url}/_stats", timeout=5).json())["submissions"] < len(ids):
            if time.perf_counter() - started > 600:
                break
            time.sleep(1)
        print(
            f"in flight: {stats['submissions']} of {len(ids)} jobs generating at the provider, counted by it "
            f"({time.perf_counter() - started:.0f} s after the last create)"
        )

        for rate in args.rate or [500.0]:
            before = cpu_report(cluster)
            results = run_open_loop(urls, lambda n: f"/v1/videos/{random.choice(ids)}", rate=rate, seconds=args.seconds)
            spent = cpu_spent(before, cpu_report(cluster))
            ms = [s * 1000 for s in results.latencies]
            p50, p99 = percentile(ms, 0.50), percentile(ms, 0.99)
            print(
                f"retrieve: {len(ms)} GETs at {rate:.0f}/s, {results.failures} failed: p50 {p50:.1f} ms, "
                f"mean {statistics.fmean(ms):.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms "
                f"(bar p99 ≤ 50 ms: {'PASS' if p99 <= 50 else 'FAIL'})"
            )
            per_get = ", ".join(f"{name} {seconds / len(ms) * 1000:.2f}" for name, seconds in spent.items())
            print(f"  CPU ms per GET: {per_get}")
        print("memory (VmRSS):")
        worst = 0
        for name, rss in memory_report(cluster):
            worst = max(worst, rss) if name != "fake" else worst
            print(f"  {name:<34} {rss / 2**20:7.1f} MB")
        verdict = "PASS" if worst <= 300 * 2**20 else "FAIL"
        print(f"largest Reelay process: {worst / 2**20:.1f} MB (bar ≤ 300 MB: {verdict})")
        print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        assert all(w.alive() for w in workers), "a worker died"


if __name__ == "__main__":
    main()
