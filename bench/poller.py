"""What the relay costs: CPU per 1,000 in-flight jobs polled every 5 s, a figure to size with.

A default ``reelay serve`` (SQLite, one process) fronts a fake OpenAI-compatible provider whose jobs
take an hour and that asks to be polled every 5 s (``openai-poll-after-ms``). ``--jobs`` jobs are
submitted; once every one waits upstream, the CPU time of the Reelay process is read over
``--seconds`` along with the polls the fake answered. The fake runs in its own process and is not
counted. Prints the polls per second, Reelay's CPU per second, and the same per 1,000 jobs.

    python bench/poller.py --jobs 2000 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.* helpers

from tests.media_helpers import make_video
from tests.scale.cluster import Cluster, rss_bytes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def submit(url: str, jobs: int) -> None:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        semaphore = asyncio.Semaphore(4)

        async def one(index: int) -> None:
            async with semaphore:
                body = {"model": "wan2.2-t2v", "prompt": f"poller job {index}", "seconds": "1"}
                for _ in range(10):  # a 503 (SQLite busy on a starved machine) is retried, as SDKs do
                    response = await http.post("/v1/videos", json=body)
                    if response.status_code != 503:
                        break
                    await asyncio.sleep(1)
                response.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(jobs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--poll-after-ms", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        video = make_video(root / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
        cluster = Cluster(root, {})
        try:
            fake = cluster.fake(video, min_latency=3600, max_latency=3600, poll_after_ms=args.poll_after_ms)
            cluster.wait_ready(fake, "/_stats")
            serve = cluster.serve_in_front_of(fake, root / "data")
            started = time.perf_counter()
            asyncio.run(submit(str(serve.url), args.jobs))
            submitted = time.perf_counter() - started
            stats_url = f"{fake.url}/_stats"
            while httpx.get(stats_url).json()["submissions"] < args.jobs:
                time.sleep(0.5)
            # one full poll interval, so every job has entered its steady polling rhythm
            time.sleep(args.poll_after_ms / 1000 + 2)
            polls_before, cpu_before = httpx.get(stats_url).json()["polls"], cpu_seconds(serve.popen.pid)
            window_start = time.perf_counter()
            time.sleep(args.seconds)
            window = time.perf_counter() - window_start
            polls = httpx.get(stats_url).json()["polls"] - polls_before
            cpu = cpu_seconds(serve.popen.pid) - cpu_before
            rss = rss_bytes(serve.popen.pid)
        finally:
            cluster.close()
    per_second = cpu / window
    per_thousand = per_second * 1000 / args.jobs
    print(f"jobs in flight            {args.jobs}  (submitted in {submitted:.1f} s: {args.jobs / submitted:.0f}/s)")
    print(f"poll interval asked       {args.poll_after_ms / 1000:g} s")
    print(f"polls answered            {polls / window:.0f}/s over {window:.0f} s")
    print(f"reelay CPU                {per_second:.3f} core ({cpu / max(polls, 1) * 1000:.2f} ms per poll)")
    print(f"per 1,000 jobs in flight  {per_thousand:.3f} core  -> 10,000 jobs: {per_thousand * 10:.2f} core")
    print(f"reelay RSS                {rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
