"""Explicit provider limits: ``max_in_flight`` in reelay.toml caps the jobs waiting on a provider;
the rest stay queued, say why in their video object, and go upstream as earlier ones finish."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.media_helpers import make_video
from tests.scale.cluster import Cluster

JOBS = 6
LIMIT = 2


def test_jobs_over_the_in_flight_limit_stay_queued_and_say_why(tmp_path: Path) -> None:
    video = make_video(tmp_path / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
    config = tmp_path / "reelay.toml"
    config.write_text(f"[providers.openai_compatible]\nmax_in_flight = {LIMIT}\n")
    cluster = Cluster(tmp_path, {})
    try:
        fake = cluster.fake(video, min_latency=1.5, max_latency=1.5, poll_after_ms=200)
        cluster.wait_ready(fake, "/_stats")
        serve = cluster.serve_in_front_of(fake, tmp_path / "data", REELAY_CONFIG_FILE=str(config))
        with httpx.Client(base_url=str(serve.url), timeout=30) as client:
            ids = [
                client.post(
                    "/v1/videos", json={"model": "wan2.2-t2v", "prompt": f"limited {i}", "seconds": "1"}
                ).json()["id"]
                for i in range(JOBS)
            ]
            reasons: set[str] = set()
            most_generating = 0
            done: set[str] = set()
            deadline = time.monotonic() + 90
            while len(done) < JOBS and time.monotonic() < deadline:
                most_generating = max(most_generating, httpx.get(f"{fake.url}/_stats").json()["generating"])
                for video_id in ids:
                    body = client.get(f"/v1/videos/{video_id}").json()
                    assert body["status"] not in ("failed", "cancelled"), body
                    if body["status"] == "completed":
                        done.add(video_id)
                    elif body["metadata"].get("queued_reason"):
                        assert body["status"] == "queued", body
                        reasons.add(body["metadata"]["queued_reason"])
                time.sleep(0.05)
        assert len(done) == JOBS, serve.tail()
        assert most_generating <= LIMIT
        assert any("max_in_flight = 2" in reason for reason in reasons), reasons
        assert httpx.get(f"{fake.url}/_stats").json()["submissions"] == JOBS
    finally:
        cluster.close()
