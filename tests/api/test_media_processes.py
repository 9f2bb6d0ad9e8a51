"""The media process of a real ``reelay serve`` serving a remote model, seen from outside.

Every collected video is probed in one media process (never the render pool, which stays down for a
remote-only gateway), posters and spritesheets are made the first time a client asks for one, and
the media process exits after ``REELAY_PROCESS_IDLE_SECONDS`` without work; the next image starts a
fresh one. The server itself keeps at most one malloc arena besides the main heap (``reelay.heap``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest

from reelay.heap import SERVER_ARENAS
from tests.api.test_render_processes import render_children
from tests.conftest import LiveServer, free_port, server_env
from tests.media_helpers import make_video
from tests.security.slow_videos_fake import SlowVideosFake
from tests.test_procpool import count_thread_heaps, is_gone, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

JOBS = 8


def test_remote_videos_share_one_media_process_that_leaves_when_idle(tmp_path: Path) -> None:
    make_video(tmp_path / "upstream.mp4", seconds=1.0, width=320, height=176)
    fake = SlowVideosFake(video=(tmp_path / "upstream.mp4").read_bytes(), min_seconds=0.5, max_seconds=0.5)
    fake.start()
    env = server_env(
        REELAY_OPENAI_COMPATIBLE_API_KEY="test",
        REELAY_OPENAI_COMPATIBLE_BASE_URL=fake.url,
        REELAY_WORKERS="4",  # four collections at once: each would have had a render process of its own
        REELAY_LOCAL_RENDER_PROCESSES="2",
        REELAY_PROCESS_IDLE_SECONDS="1",
    )
    server = LiveServer(tmp_path / "data", free_port(), env)
    server.start()
    try:
        assert server.process is not None
        pid = server.process.pid
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ids = []
            for i in range(JOBS):
                created = client.post("/v1/videos", json={"model": "wan2.2-t2v", "prompt": f"job {i}", "seconds": 2})
                assert created.status_code == 202, created.text
                ids.append(created.json()["id"])
            most, deadline = 0, time.monotonic() + 180  # a time-box for a busy machine, not a timing assertion
            while {client.get(f"/v1/videos/{video_id}").json()["status"] for video_id in ids} != {"completed"}:
                assert time.monotonic() < deadline, "the jobs did not complete"
                most = max(most, len(render_children(pid)))
                time.sleep(0.02)
            assert most <= 1
            files = tmp_path / "data" / "files" / "videos"
            assert all(sorted(p.name for p in (files / i).iterdir()) == ["0.mp4"] for i in ids)  # no image yet

            media = render_children(pid)
            assert wait_for(lambda: all(is_gone(child) for child in media), timeout=60), "the media process stayed"
            assert render_children(pid) == []

            thumbnail = client.get(f"/v1/videos/{ids[0]}/content", params={"variant": "thumbnail"})
            assert thumbnail.status_code == 200 and thumbnail.content[:3] == b"\xff\xd8\xff"
            fresh = render_children(pid)
            assert len(fresh) == 1 and fresh[0] not in media  # a new media process made it
            video = client.get(f"/v1/videos/{ids[1]}").json()
            sheet = httpx.get(video["output"]["spritesheet_url"], timeout=30)  # the signed link makes it too
            assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/jpeg"
            assert sorted(p.name for p in (files / ids[0]).iterdir()) == ["0.mp4", "0.thumbnail.jpg"]
            assert sorted(p.name for p in (files / ids[1]).iterdir()) == ["0.mp4", "0.spritesheet.jpg"]
        assert count_thread_heaps(Path(f"/proc/{pid}/maps").read_text()) <= SERVER_ARENAS - 1
    finally:
        server.stop()
        fake.stop()
