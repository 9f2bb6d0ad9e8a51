"""The proof of the scale-out mode: 2 API processes + 2 worker processes, PostgreSQL, procrastinate,
moto's S3 server, 200 jobs against a fake provider taking 1–3 s each; one worker is SIGKILLed mid-run.

Every job must end completed, the provider must have seen exactly 200 submissions (the killed
worker's jobs are resumed by polling their stored upstream ids, never submitted again), every output
must be in the bucket, and no job may be left leased.

The kill comes once a good share of generations are running upstream, with no pause to let the
worker store their ids: a worker that dies between the provider's answer and the commit of the id
submits again, but with the run's submit key (stored before the POST) as ``Idempotency-Key``, which
this fake honours as Reelay does, so a kill inside that window still makes no second generation.
The lease (15 s) is long enough that a live worker starved of CPU by a busy machine keeps its jobs;
with a much shorter one, a worker still waiting for a slow submission can lose the job to another
that submits it again.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.media_helpers import make_video
from tests.postgres import throwaway_database, unreachable_reason
from tests.scale.cluster import Cluster, s3_client, scale_env

JOBS = 200


def _create(url: str, index: int) -> str:
    body = {"model": "wan2.2-t2v", "prompt": f"scale-out job {index}", "seconds": "1"}
    response = httpx.post(f"{url}/v1/videos", json=body, timeout=30)
    assert response.status_code in (200, 202), response.text
    return str(response.json()["id"])


def _fake_stats(fake_url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{fake_url}/_stats", timeout=5).json())


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(unreachable_reason() is not None, reason=str(unreachable_reason()))
def test_two_apis_two_workers_survive_a_killed_worker(tmp_path: Path, s3_endpoint: str) -> None:
    bucket = f"reelay-{uuid.uuid4().hex[:8]}"
    s3 = s3_client(s3_endpoint)
    s3.create_bucket(Bucket=bucket)
    video = make_video(tmp_path / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
    with throwaway_database() as database_url:
        cluster = Cluster(tmp_path, {})
        try:
            fake = cluster.fake(video, min_latency=1.0, max_latency=3.0, poll_after_ms=500)
            cluster.env = scale_env(
                database_url=database_url,
                s3_endpoint=s3_endpoint,
                bucket=bucket,
                fake_url=str(fake.url),
                # Sized as docs/deploy.md says: a worker running 100 jobs renews 100 leases and checks 100
                # jobs for cancellation; with too few connections a renewal can wait past the lease, and
                # a job taken over mid-submit is submitted twice.
                REELAY_JOB_LEASE_SECONDS="30",
                REELAY_SWEEP_SECONDS="2",
                REELAY_DATABASE_POOL_SIZE="16",
                REELAY_CANCEL_CHECK_SECONDS="2",
            )
            cluster.migrate()
            apis = [cluster.api(0), cluster.api(1)]
            workers = [cluster.worker(0, 100), cluster.worker(1, 100)]
            cluster.wait_ready(fake, "/_stats")
            for api in apis:
                cluster.wait_ready(api, "/healthz")
            assert all(w.alive() for w in workers), "\n".join(w.tail() for w in workers)

            with ThreadPoolExecutor(16) as pool:
                ids = list(pool.map(lambda i: _create(str(apis[i % 2].url), i), range(JOBS)))
            assert len(set(ids)) == JOBS

            # Kill mid-run, whatever the machine's speed: once a good share of generations are running
            # upstream, not after a fixed delay (an id not yet stored is resubmitted under its key).
            def mid_run() -> bool:
                stats = _fake_stats(str(fake.url))
                return bool(stats["generating"] >= 5 and stats["submissions"] >= JOBS // 4)

            _wait(mid_run, 120, "generations to be running")
            killed_at = time.time()
            workers[0].kill()

            finished: dict[str, dict[str, object]] = {}

            def all_done() -> bool:
                for n, video_id in enumerate(ids):
                    if video_id not in finished:
                        body = httpx.get(f"{apis[n % 2].url}/v1/videos/{video_id}", timeout=10).json()
                        if body["status"] in ("completed", "failed", "cancelled"):
                            finished[video_id] = body
                return len(finished) == JOBS

            _wait(all_done, 240, "every job to finish")  # generous: a busy machine, not a timing bar
            statuses = {body["status"] for body in finished.values()}
            assert statuses == {"completed"}, [b.get("error") for b in finished.values() if b["status"] != "completed"]
            stats = _fake_stats(str(fake.url))
            resubmitted = {p: [round(t - killed_at, 2) for t in ts] for p, ts in stats["resubmitted"].items()}
            assert stats["submissions"] == JOBS, f"submitted again (seconds after the kill): {resubmitted}"
            assert workers[1].alive(), workers[1].tail()

            for video_id in ids:
                for key in (f"{video_id}/0.mp4", f"{video_id}/0.thumbnail.jpg", f"{video_id}/0.spritesheet.jpg"):
                    s3.head_object(Bucket=bucket, Key=f"videos/{key}")
            sample = finished[ids[0]]["output"]
            assert isinstance(sample, dict) and str(sample["url"]).startswith(s3_endpoint)  # a presigned S3 URL
            assert httpx.get(str(sample["url"]), timeout=10).content == video.read_bytes()

            conninfo = database_url.replace("postgresql+psycopg", "postgresql")
            with psycopg.connect(conninfo) as connection:
                leased = connection.execute("SELECT count(*) FROM videos WHERE lease_owner IS NOT NULL").fetchone()
            assert leased == (0,)
        finally:
            cluster.close()
