"""The relay end to end: a default ``reelay serve`` (no tuning flags) in front of an OpenAI-compatible
upstream whose jobs take 10 s each. With 200 jobs submitted at once, the upstream must see them
running side by side, at least ten times the old ceiling (a job waiting on its provider holds no
worker slot; with the old pipeline the 2 default slots capped it at 2), each submitted exactly
once, and every job must complete.

How fast (the issue's bar: 200 five-second jobs completed within 20 s of submission) is measured by
``bench/relay.py``, not asserted here: tests never fail for slowness.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.media_helpers import make_video
from tests.scale.cluster import Cluster

JOBS = 200
LATENCY = 10.0


def _create(url: str, index: int) -> str:
    body = {"model": "wan2.2-t2v", "prompt": f"relay job {index}", "seconds": "1"}
    for _ in range(5):  # a 503 (SQLite busy on a starved machine) is retried, as the SDKs do
        response = httpx.post(f"{url}/v1/videos", json=body, timeout=60)
        if response.status_code != 503:
            break
        time.sleep(1)
    assert response.status_code in (200, 202), response.text
    return str(response.json()["id"])


def test_two_hundred_upstream_jobs_run_side_by_side_on_a_default_serve(tmp_path: Path) -> None:
    video = make_video(tmp_path / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
    cluster = Cluster(tmp_path, {})
    try:
        fake = cluster.fake(video, min_latency=LATENCY, max_latency=LATENCY, poll_after_ms=1000)
        cluster.wait_ready(fake, "/_stats")
        serve = cluster.serve_in_front_of(fake, tmp_path / "data")
        with ThreadPoolExecutor(max_workers=16) as pool:
            ids = list(pool.map(lambda i: _create(str(serve.url), i), range(JOBS)))
        finished: set[str] = set()
        deadline = time.monotonic() + 300  # generous: a busy machine is slow, not wrong
        with httpx.Client(base_url=str(serve.url), timeout=30) as client:
            while len(finished) < JOBS and time.monotonic() < deadline:
                for video_id in [v for v in ids if v not in finished]:
                    body = client.get(f"/v1/videos/{video_id}").json()
                    assert body["status"] not in ("failed", "cancelled"), body
                    if body["status"] == "completed":
                        finished.add(video_id)
                time.sleep(0.5)
        assert len(finished) == JOBS, f"{len(finished)} of {JOBS} completed\n{serve.tail()}"
        stats = httpx.get(f"{fake.url}/_stats", timeout=5).json()
        assert stats["submissions"] == JOBS and stats["fetched"] == JOBS, stats
        # Side by side: the slot-bound pipeline never had more than its 2 default slots' worth at the
        # provider; the relay has as many as were created within the 10 s latency (all 200 on an
        # idle machine; 72 were seen with a 20 s latency and the 2 cores shared by a dozen busy processes).
        assert stats["peak_generating"] >= 20, stats
    finally:
        cluster.close()
