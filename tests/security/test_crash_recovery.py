"""SIGKILL a real `reelay serve` with 50 jobs in flight on a slow provider; every job still completes once.

The provider is a loopback fake of the OpenAI Videos API reached through the generic
OpenAI-compatible adapter. After the restart, jobs whose upstream id was stored are polled again,
never resubmitted, so the fake sees exactly 50 submissions. The kill lands in a chosen stage of the
pipeline: ``wait`` (every job submitted, none finished upstream: the relay's schedule alone must bring
them back) or ``collect`` (some jobs completed, others downloading, post-processing or still
polled). It happens while no submission is in flight (an id the provider has issued but Reelay has
not yet stored cannot be recovered by any gateway without upstream idempotency keys).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, free_port, server_env
from tests.media_helpers import make_video
from tests.security.slow_videos_fake import SlowVideosFake

JOBS = 50


@pytest.fixture(params=["wait", "collect"])
def staged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SlowVideosFake, str]]:
    """The fake provider, and the stage the kill must land in."""
    make_video(tmp_path / "upstream.mp4", seconds=1.0, width=320, height=176)
    # "wait": no job finishes upstream until the test releases them, after the kill.
    fake = SlowVideosFake(video=(tmp_path / "upstream.mp4").read_bytes(), held=request.param == "wait")
    fake.start()
    yield fake, request.param
    fake.stop()


def statuses(client: httpx.Client) -> dict[str, str]:
    page = client.get("/v1/videos", params={"limit": 100}).json()["data"]
    return {video["id"]: video["status"] for video in page}


def stages(client: httpx.Client) -> list[str]:
    """Each job's stage as its video object says (``completed`` once finished)."""
    page = client.get("/v1/videos", params={"limit": 100}).json()["data"]
    return [video["status"] if video["status"] != "in_progress" else video["metadata"]["stage"] for video in page]


def test_fifty_jobs_survive_sigkill_without_resubmission(tmp_path: Path, staged: tuple[SlowVideosFake, str]) -> None:
    fake, stage = staged
    env = server_env(
        REELAY_OPENAI_COMPATIBLE_API_KEY="test",
        REELAY_OPENAI_COMPATIBLE_BASE_URL=fake.url,
        REELAY_WORKERS="16",
        REELAY_LOCAL_RENDER_PROCESSES="2",
    )
    live = LiveServer(tmp_path / "data", free_port(), env)
    live.start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            ids = []
            for i in range(JOBS):
                created = client.post("/v1/videos", json={"model": "wan2.2-t2v", "prompt": f"job {i}", "seconds": 2})
                assert created.status_code == 202, created.text
                ids.append(created.json()["id"])
            deadline = time.monotonic() + 120
            while True:
                assert time.monotonic() < deadline, "the jobs never got to the stage"
                # Every upstream id stored (each job past ``submit``, as Reelay itself reports) and no
                # submission in flight: exactly-once then needs no upstream idempotency (this fake
                # keeps none). Read from Reelay's answers, not guessed from a quiet spell.
                now = stages(client)
                stored = len(now) == JOBS and not {"queued", "submit"} & set(now)
                if stored and fake.quiet_for(0) and fake.submissions == JOBS:
                    done = now.count("completed")
                    if (stage == "wait" and done == 0) or (stage == "collect" and 0 < done < JOBS):
                        break
                time.sleep(0.05)
            live.kill()
            fake.release()
        before = fake.submissions

        live.start()
        with httpx.Client(base_url=live.url, timeout=30) as client:
            deadline = time.monotonic() + 240  # generous: the machine may be busy; not a timing assertion
            while set((now := statuses(client)).values()) != {"completed"}:
                assert time.monotonic() < deadline, now
                assert "failed" not in now.values() and "cancelled" not in now.values(), now
                time.sleep(0.2)
            assert sorted(now) == sorted(ids)
            expected = hashlib.sha256(fake.video).hexdigest()
            for video_id in ids:
                content = client.get(f"/v1/videos/{video_id}/content")
                assert content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == expected
                for variant in ("thumbnail", "spritesheet"):  # made on this first read (jobs.previews)
                    assert client.get(f"/v1/videos/{video_id}/content", params={"variant": variant}).status_code == 200
    finally:
        live.stop()
    assert fake.submissions == JOBS, f"{fake.submissions} submissions ({before} before the kill)"
    files = tmp_path / "data" / "files" / "videos"
    for video_id in ids:
        names = sorted(p.name for p in (files / video_id).iterdir())
        assert names == ["0.mp4", "0.spritesheet.jpg", "0.thumbnail.jpg"], names
        assert (files / video_id / "0.mp4").read_bytes() == fake.video
    leftovers = [p for p in (tmp_path / "data").rglob("*") if p.suffix in (".part", ".tmp")]
    assert leftovers == []
