"""Where a retrieve's CPU goes: server CPU per ``GET /v1/videos/{id}`` on one process, beside floors.

Runs each server alone under uvicorn (httptools, uvloop) and sends it GETs open-loop from
bench/loadgen.py, then reads the server's CPU time from /proc:
1. a bare Starlette app with one route returning a constant JSON object (the floor of any Python ASGI
   server here),
2. the same route on a bare FastAPI app,
3. ``reelay serve`` in the scale-out configuration (PostgreSQL, procrastinate, S3 on moto; no
   workers) answering ``GET /v1/videos/{id}`` for 200 real jobs, and ``GET /healthz`` (a FastAPI
   route through Reelay's middleware: request id, access log, metrics, body limit).
Prints the machine, the date and CPU milliseconds per request. The scale benchmark's CPU budget
(bench/scale.py) is these figures times the request rate.

    cd bench && python retrieve_cost.py [--rate 250] [--seconds 10]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.* helpers

from tests.scale.cluster import free_port

from deployment import slow_provider_deployment  # bench/deployment.py
from loadgen import run_open_loop  # bench/loadgen.py
from machine import cpu_model  # bench/machine.py
from scale import cpu_seconds  # bench/scale.py


def measure(url: str, pid: int, path_for: Callable[[int], str], rate: float, seconds: float) -> str:
    run_open_loop([url], path_for, rate=rate, seconds=2)  # warm-up: imports, pools, prepared statements
    before = cpu_seconds(pid)
    results = run_open_loop([url], path_for, rate=rate, seconds=seconds)
    served = len(results.latencies)
    per_request = (cpu_seconds(pid) - before) / served * 1000
    return f"{per_request:.2f} ms CPU per request ({served} served, {results.failures} failed)"


def floor(app: str, rate: float, seconds: float) -> str:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", f"floor_apps:{app}", "--port", str(port), "--no-access-log"]
    server = subprocess.Popen([*args, "--log-level", "warning"], cwd=Path(__file__).parent)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{url}/v1/videos/x", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        return measure(url, server.pid, lambda n: f"/v1/videos/video_{n}", rate, seconds)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)


def reelay(rate: float, seconds: float) -> list[str]:
    with slow_provider_deployment() as (cluster, _fake):
        api = cluster.api(0)
        cluster.wait_ready(api, "/healthz")
        body = {"model": "wan2.2-t2v", "prompt": "bench", "seconds": "1"}
        ids = [httpx.post(f"{api.url}/v1/videos", json=body, timeout=30).json()["id"] for _ in range(200)]
        url, pid = str(api.url), api.popen.pid
        retrieve = measure(url, pid, lambda n: f"/v1/videos/{ids[n % 200]}", rate, seconds)
        health = measure(url, pid, lambda n: "/healthz", rate, seconds)
        return [f"reelay serve, GET /v1/videos/{{id}}: {retrieve}", f"reelay serve, GET /healthz: {health}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=250.0, help="GETs per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"# bench/retrieve_cost.py — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f}; {args.rate:.0f} GET/s for {args.seconds:g} s each"
    )
    print(f"bare Starlette route: {floor('starlette_app', args.rate, args.seconds)}")
    print(f"bare FastAPI route: {floor('fastapi_app', args.rate, args.seconds)}")
    for line in reelay(args.rate, args.seconds):
        print(line)


if __name__ == "__main__":
    main()
