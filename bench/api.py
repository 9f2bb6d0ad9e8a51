"""What the API adds to a create and to a retrieve, in-process (no network, no rendering).

Runs the real app (real SQLite in WAL mode, real migrations, real normalization) through httpx's
ASGI transport. The worker is stopped after start-up so rendering does not compete for the CPU:
this measures the gateway's own cost per call. Prints the machine, the date and the figures.

    python bench/api.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from machine import cpu_model  # bench/machine.py (scripts run from bench/)
from reelay.api.app import create_app
from reelay.config import Settings


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"| {name} | {len(samples)} | {statistics.median(samples) * 1000:.2f} | "
        f"{statistics.mean(samples) * 1000:.2f} | {p99 * 1000:.2f} |"
    )


async def run(calls: int) -> None:
    cpu_ms: dict[str, float] = {}  # CPU per call, client included, every thread: steadier on a busy machine
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(data_dir=Path(folder), local_render_processes=1, workers=1))
        async with app.router.lifespan_context(app):
            await app.state.worker.stop()  # measure the API, not the renderer
            await asyncio.gather(*(asyncio.wrap_future(f) for f in app.state.warming))  # idle CPU from here on
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                body = {"prompt": "a red fox in the snow", "seconds": 5, "size": "1280x720"}
                for _ in range(50):  # warm-up: imports, caches, SQLite pages
                    await client.post("/v1/videos", json=body)
                creates: list[float] = []
                ids: list[str] = []
                cpu = time.process_time()
                for _ in range(calls):
                    start = time.perf_counter()
                    response = await client.post("/v1/videos", json=body)
                    creates.append(time.perf_counter() - start)
                    assert response.status_code == 202, response.text
                    ids.append(response.json()["id"])
                cpu_ms["create"] = (time.process_time() - cpu) * 1000 / calls
                baseline: list[float] = []
                cpu = time.process_time()
                for _ in range(calls):  # the floor: client + ASGI for a route that does nothing
                    start = time.perf_counter()
                    await client.get("/healthz")
                    baseline.append(time.perf_counter() - start)
                cpu_ms["floor"] = (time.process_time() - cpu) * 1000 / calls
                retrieves: list[float] = []
                cpu = time.process_time()
                for i in range(calls):
                    start = time.perf_counter()
                    response = await client.get(f"/v1/videos/{ids[i]}")
                    retrieves.append(time.perf_counter() - start)
                    assert response.status_code == 200
                cpu_ms["retrieve"] = (time.process_time() - cpu) * 1000 / calls
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print("| call | n | median ms | mean ms | p99 ms |")
    print("|---|---|---|---|---|")
    print(summary("GET /healthz (no-op floor: httpx client + ASGI)", baseline))
    print(summary("POST /v1/videos (create)", creates))
    print(summary("GET /v1/videos/{id} (retrieve)", retrieves))
    floor = statistics.median(baseline)
    print()
    print(
        f"added by the API over the floor (median): create {(statistics.median(creates) - floor) * 1000:.2f} ms, "
        f"retrieve {(statistics.median(retrieves) - floor) * 1000:.2f} ms"
    )
    print(
        f"CPU per call (client, ASGI and app, all threads): floor {cpu_ms['floor']:.2f} ms, "
        f"create {cpu_ms['create']:.2f} ms, retrieve {cpu_ms['retrieve']:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    asyncio.run(run(parser.parse_args().calls))


if __name__ == "__main__":
    main()
