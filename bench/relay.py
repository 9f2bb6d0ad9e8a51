"""The relay's bar: a default ``reelay serve`` in front of an OpenAI-compatible upstream whose jobs
take 5 s; 200 jobs submitted at once. Prints how long each job took from its submission to
``completed`` (the bar: all within 20 s), how many the upstream ran at once, and the submissions it
counted (exactly one per job).

    python bench/relay.py [--jobs 200] [--latency 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.* helpers

from tests.media_helpers import make_video
from tests.scale.cluster import Cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--latency", type=float, default=5.0)
    parser.add_argument("--poll-after-ms", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        video = make_video(root / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
        cluster = Cluster(root, {})
        try:
            fake = cluster.fake(
                video, min_latency=args.latency, max_latency=args.latency, poll_after_ms=args.poll_after_ms
            )
            cluster.wait_ready(fake, "/_stats")
            serve = cluster.serve_in_front_of(fake, root / "data")

            def create(index: int) -> tuple[str, float]:
                body = {"model": "wan2.2-t2v", "prompt": f"relay bench {index}", "seconds": "1"}
                response = httpx.post(f"{serve.url}/v1/videos", json=body, timeout=60)
                response.raise_for_status()
                return str(response.json()["id"]), time.time()

            started = time.time()
            with ThreadPoolExecutor(max_workers=16) as pool:
                submitted = dict(pool.map(create, range(args.jobs)))
            created_in = time.time() - started
            done: dict[str, float] = {}
            with httpx.Client(base_url=str(serve.url), timeout=30) as client:
                while len(done) < args.jobs and time.time() - started < 600:
                    for video_id in [v for v in submitted if v not in done]:
                        body = client.get(f"/v1/videos/{video_id}").json()
                        if body["status"] in ("completed", "failed", "cancelled"):
                            done[video_id] = time.time()
                    time.sleep(0.1)
            stats = httpx.get(f"{fake.url}/_stats", timeout=5).json()
        finally:
            cluster.close()
    took = sorted(done[v] - submitted[v] for v in done)
    print(f"jobs                      {args.jobs} of {args.latency:g} s upstream, created in {created_in:.1f} s")
    print(f"completed                 {len(done)}")
    print(f"submission → completed    median {statistics.median(took):.1f} s, max {took[-1]:.1f} s (bar: 20 s)")
    print(f"all done after            {max(done.values()) - started:.1f} s")
    print(f"upstream: submissions     {stats['submissions']}, at once at most {stats['peak_generating']}")


if __name__ == "__main__":
    main()
