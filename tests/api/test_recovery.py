"""A job accepted is never lost: SIGKILL the server mid-flight, restart it, every job completes."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, free_port, server_env, wait_until_finished
from tests.media_helpers import probe


def test_jobs_survive_a_sigkill_and_restart(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", free_port(), server_env(REELAY_WORKERS="2"))
    live.start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            ids = [
                client.post("/v1/videos", json={"prompt": f"crash test {i}", "seconds": 4, "size": "640x360"}).json()[
                    "id"
                ]
                for i in range(6)
            ]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # kill while work is really in flight
                statuses = [client.get(f"/v1/videos/{i}").json()["status"] for i in ids]
                if "in_progress" in statuses:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("no job started")
        live.kill()
        assert statuses.count("completed") < len(ids)

        live.start()
        # The restarted gateway holds the database alone, so the jobs the killed one held are its own
        # at once (jobs.sole_owner), not after their leases lapse.
        assert live.log_path is not None and "took back jobs a stopped process held" in live.log_path.read_text()
        with httpx.Client(base_url=live.url, timeout=30) as client:
            finished = [wait_until_finished(client, video_id, timeout=180) for video_id in ids]
        assert [f["status"] for f in finished] == ["completed"] * len(ids), finished
        for i, body in enumerate(finished):
            target = tmp_path / f"{i}.mp4"
            target.write_bytes(httpx.get(body["output"]["url"]).content)  # type: ignore[index]
            assert abs(float(probe(target)["duration"]) - 4) <= 0.1  # type: ignore[arg-type]
        leftovers = [p for p in (tmp_path / "data" / "files").rglob("*") if p.name.endswith(".part")]
        assert leftovers == []
    finally:
        live.stop()
