"""Scale-out: a ``reelay worker`` process runs the job; the API process streams its events, heard
through PostgreSQL ``LISTEN/NOTIFY`` (the API process runs no workers and polls nothing per client)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, free_port, server_env
from tests.events.sse_client import stream_events
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

REELAY = str(Path(sys.executable).with_name("reelay"))


@pytest.fixture
def api_and_worker(postgres_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    data = tmp_path / "data"  # one data dir: local storage is shared on this machine
    env = server_env(REELAY_DATABASE_URL=postgres_url, REELAY_QUEUE="procrastinate", REELAY_LOCAL_RENDER_PROCESSES="1")
    migrated = subprocess.run([REELAY, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    api = LiveServer(data, free_port(), {**env, "REELAY_RUN_WORKERS": "false"})
    api.start()
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115  (kept open for the process's life)
    worker = subprocess.Popen(
        [REELAY, "worker", "--concurrency", "1", "--data-dir", str(data)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        yield api
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        api.stop()


def test_events_cross_processes_through_listen_notify(api_and_worker: LiveServer) -> None:
    with httpx.Client(base_url=api_and_worker.url, timeout=30) as http:
        created = http.post("/v1/videos", json={"prompt": "harbour at night", "seconds": 2, "size": "320x180"})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        response, events = stream_events(http, f"/v1/videos/{video_id}/events", timeout=120)
    assert response.status_code == 200
    statuses = [event.json()["status"] for event in events]
    assert statuses[-1] == "completed", statuses
    assert "in_progress" in statuses, statuses  # heard while it ran, not only read at the end
