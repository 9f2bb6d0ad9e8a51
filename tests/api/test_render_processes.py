"""Render processes seen from outside a real ``reelay serve``: none before the first local job, and
cancelling a job kills the process rendering it (and only its render), so the next job starts at once."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, free_port, server_env, wait_until_finished
from tests.test_procpool import is_gone, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def render_children(parent: int) -> list[int]:
    """Pids of ``parent``'s render processes (``reelay.procchild`` processes)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] not in ("Z", "X") and b"reelay.procchild" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_cancel_kills_the_running_render_and_the_pool_starts_lazily(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data", free_port(), server_env(REELAY_LOCAL_RENDER_PROCESSES="1"))
    server.start()
    try:
        assert server.process is not None
        assert render_children(server.process.pid) == []  # nothing started before the first job
        with httpx.Client(base_url=server.url, timeout=30) as client:
            long = client.post("/v1/videos", json={"prompt": "a long slow pan", "seconds": 15, "size": "1280x720"})
            assert long.status_code == 202, long.text
            video_id = long.json()["id"]
            assert wait_for(lambda: client.get(f"/v1/videos/{video_id}").json()["progress"] > 0, timeout=120)
            children = render_children(server.process.pid)
            assert len(children) == 1
            assert client.post(f"/v1/videos/{video_id}/cancel").status_code == 202  # accepted: the worker stops it
            assert wait_for(lambda: is_gone(children[0]), timeout=10), "the cancelled render kept running"
            assert wait_until_finished(client, video_id)["status"] == "cancelled"
            short = client.post("/v1/videos", json={"prompt": "a short one", "seconds": 1, "size": "640x360"})
            assert wait_until_finished(client, short.json()["id"])["status"] == "completed"
            assert client.get("/healthz").status_code == 200
    finally:
        server.stop()
