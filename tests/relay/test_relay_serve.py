"""The relay end to end: a default ``reelay serve`` (no tuning flags) in front of an OpenAI-compatible
upstream whose jobs take 5 s each. 200 jobs submitted at once must all complete within 20 s of
their submission: a job waiting on its provider holds no worker slot, so two CPU slots relay
hundreds of upstream jobs at once. The fake counts submissions: each job is submitted exactly once.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.media_helpers import make_video
from tests.scale.cluster import FAKE_KEY, Cluster, free_port

JOBS = 200
LATENCY = 5.0
BAR_SECONDS = 20.0


def _create(url: str, index: int) -> tuple[str, float]:
    body = {"model": "wan2.2-t2v", "prompt": f"relay job {index}", "seconds": "1"}
    response = httpx.post(f"{url}/v1/videos", json=body, timeout=60)
    assert response.status_code in (200, 202), response.text
    return str(response.json()["id"]), time.time()


def test_two_hundred_five_second_jobs_complete_within_twenty_seconds(tmp_path: Path) -> None:
    video = make_video(tmp_path / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
    cluster = Cluster(tmp_path, {})
    try:
        fake = cluster.fake(video, min_latency=LATENCY, max_latency=LATENCY, poll_after_ms=1000)
        cluster.wait_ready(fake, "/_stats")
        port = free_port()
        env = {
            "PATH": "/usr/bin:/bin",
            "NO_PROXY": "127.0.0.1,localhost",
            "REELAY_OPENAI_COMPATIBLE_API_KEY": FAKE_KEY,
            "REELAY_OPENAI_COMPATIBLE_BASE_URL": f"{fake.url}/v1",
        }
        from tests.scale.cluster import REELAY

        serve = cluster.spawn(
            "serve",
            [REELAY, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
            env=env,
            url=f"http://127.0.0.1:{port}",
        )
        cluster.wait_ready(serve, "/healthz")
        with ThreadPoolExecutor(max_workers=16) as pool:
            created = list(pool.map(lambda i: _create(str(serve.url), i), range(JOBS)))
        submitted_at = dict(created)
        finished: dict[str, float] = {}
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=str(serve.url), timeout=30) as client:
            while len(finished) < JOBS and time.monotonic() < deadline:
                for video_id in [v for v in submitted_at if v not in finished]:
                    body = client.get(f"/v1/videos/{video_id}").json()
                    assert body["status"] not in ("failed", "cancelled"), body
                    if body["status"] == "completed":
                        finished[video_id] = float(body["completed_at"])
                time.sleep(0.2)
        assert len(finished) == JOBS, f"{len(finished)} of {JOBS} completed\n{serve.tail()}"
        took = sorted(finished[v] - submitted_at[v] for v in finished)
        # completed_at is whole seconds (the OpenAI shape): allow the second it was truncated from.
        assert took[-1] <= BAR_SECONDS + 1, f"slowest {took[-1]:.1f} s; median {took[len(took) // 2]:.1f} s"
        stats = httpx.get(f"{fake.url}/_stats", timeout=5).json()
        assert stats["submissions"] == JOBS and stats["fetched"] == JOBS, stats
    finally:
        cluster.close()
