"""Cancellation (POST …/cancel, DELETE of an unfinished job) and retention (the sweeper purges)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.security.keyed import reelay


def test_cancel_a_queued_video(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        video = client.post("/v1/videos", json={"prompt": "a fox"}).json()["id"]
        cancelled = client.post(f"/v1/videos/{video}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert client.get(f"/v1/videos/{video}").json()["status"] == "cancelled"
        again = client.post(f"/v1/videos/{video}/cancel")
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
        assert client.post("/v1/videos/video_missing/cancel").status_code == 404
        assert client.post("/openai/v1/videos/../cancel").status_code == 404


def test_cancel_and_delete_running_videos(tmp_path: Path) -> None:
    with reelay(tmp_path, run_workers=True) as client:
        body = {"prompt": "a long fox", "seconds": 12, "size": "1280x720"}
        running, deleted = (client.post("/v1/videos", json=body).json()["id"] for _ in range(2))
        deadline = time.monotonic() + 60
        while {client.get(f"/v1/videos/{v}").json()["status"] for v in (running, deleted)} != {"in_progress"}:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        response = client.post(f"/v1/videos/{running}/cancel")
        assert response.status_code in (200, 202) and response.json()["id"] == running
        assert client.delete(f"/v1/videos/{deleted}").json() == {
            "id": deleted,
            "object": "video.deleted",
            "deleted": True,
        }
        assert client.get(f"/v1/videos/{deleted}").status_code == 404  # hidden at once
        while client.get(f"/v1/videos/{running}").json()["status"] != "cancelled":
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_expired_videos_lose_their_files_and_rows(tmp_path: Path) -> None:
    with reelay(tmp_path, run_workers=True, retention_hours=1 / 3600) as client:  # outputs live 1 s
        video = client.post("/v1/videos", json={"prompt": "short", "seconds": 1, "size": "320x180"}).json()["id"]
        deadline = time.monotonic() + 60
        while (done := client.get(f"/v1/videos/{video}").json())["status"] != "completed":
            assert time.monotonic() < deadline and done["status"] in ("queued", "in_progress"), done
            time.sleep(0.05)
        assert done["expires_at"] and (tmp_path / "files" / "videos" / video).is_dir()
        time.sleep(max(0.0, done["expires_at"] - time.time()) + 1.1)
        client.portal.call(client.app.state.worker.sweep)  # type: ignore[union-attr,attr-defined]
        assert client.get(f"/v1/videos/{video}").status_code == 404
    assert not (tmp_path / "files" / "videos" / video).exists()
    database = sqlite3.connect(tmp_path / "reelay.db")
    assert database.execute("SELECT count(*) FROM videos WHERE id = ?", (video,)).fetchone() == (0,)
    database.close()
