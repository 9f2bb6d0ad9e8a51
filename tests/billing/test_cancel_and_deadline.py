"""Cancelling before a provider started costs nothing; a deadline that passes first ends the job expired."""

from __future__ import annotations

import time
from pathlib import Path

from tests.billing.harness import keys, settled, spent
from tests.security.keyed import reelay

PRICED = {"model": "grok-imagine-video", "prompt": "a fox", "seconds": 5}  # $0.25 in demo mode


def test_cancelled_before_start_costs_nothing(tmp_path: Path) -> None:
    with reelay(tmp_path, demo=True) as client:  # no workers: the job stays queued
        admin, user = keys(client, budget_usd=1.0)
        created = client.post("/v1/videos", json=PRICED, headers=user).json()
        assert created["metadata"]["cost"]["if_cancelled"] == 0.0  # no provider has it yet: free
        assert spent(client, admin, user) == 0.25
        cancelled = client.post(f"/v1/videos/{created['id']}/cancel", headers=user)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        cost = cancelled.json()["metadata"]["cost"]
        assert (cost["settled"], cost["state"]) == (0.0, "released")
        assert "before the provider started" in cost["reason"]
        assert spent(client, admin, user) == 0.0
        usage = client.get("/v1/usage", headers=user).json()["totals"]
        assert usage == {"spent": 0.0, "held": 0.0, "refunded": 0.25, "jobs": 1}


def test_a_deadline_that_passes_before_submission_ends_the_job_expired(tmp_path: Path) -> None:
    with reelay(tmp_path, demo=True) as client:  # no workers yet: nothing can start it
        admin, user = keys(client, budget_usd=1.0)
        created = client.post("/v1/videos", json={**PRICED, "deadline_seconds": 0.2}, headers=user)
        assert created.status_code == 202, created.text
        video = created.json()["id"]
        time.sleep(0.3)
        tokens = (admin, user)
    with reelay(tmp_path, demo=True, run_workers=True) as client:  # a worker starts and finds it too late
        admin, user = tokens
        body = settled(client, video, user)
        assert body["status"] == "expired" and body["error"]["code"] == "deadline_expired", body
        assert "deadline_seconds" in body["error"]["message"]
        cost = body["metadata"]["cost"]
        assert (cost["settled"], cost["state"]) == (0.0, "released")
        assert spent(client, admin, user) == 0.0
        assert client.get(f"/v1/videos/{video}/content", headers=user).status_code == 409


def test_a_deadline_long_enough_changes_nothing(tmp_path: Path) -> None:
    with reelay(tmp_path, run_workers=True) as client:
        _, user = keys(client)
        body = {"prompt": "a fox", "seconds": 1, "size": "320x180", "deadline_seconds": 600}
        done = settled(client, client.post("/v1/videos", json=body, headers=user).json()["id"], user)
        assert done["status"] == "completed"


def test_a_bad_deadline_is_a_400(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        for value in ("soon", -1, 0, True, 10**9, {"s": 1}):
            response = client.post("/v1/videos", json={"prompt": "a fox", "deadline_seconds": value})
            assert response.status_code == 400, (value, response.text)
            assert response.json()["error"]["param"] == "deadline_seconds"
        form = client.post("/v1/videos", data={"prompt": "a fox", "deadline_seconds": "x"})
        assert form.status_code == 400 and form.json()["error"]["param"] == "deadline_seconds"


def test_outputs_past_retention_show_expired_and_answer_410(tmp_path: Path) -> None:
    with reelay(tmp_path, run_workers=True, retention_hours=3 / 3600) as client:  # outputs live 3 s
        _, user = keys(client)
        video = client.post("/v1/videos", json={"prompt": "short", "seconds": 1, "size": "320x180"}, headers=user)
        done = settled(client, video.json()["id"], user)
        assert done["status"] == "completed" and done["expires_at"]
    with reelay(tmp_path) as client:  # no workers, so no sweeper deletes the row while we look
        time.sleep(max(0.0, done["expires_at"] - time.time()) + 1.2)  # expires_at is shown truncated to a second
        body = client.get(f"/v1/videos/{done['id']}", headers=user).json()
        assert body["status"] == "expired" and body["output"] is None
        assert body["error"]["code"] == "video_expired"
        assert body["metadata"]["cost"]["state"] == "settled"  # what it cost stays visible
        content = client.get(f"/v1/videos/{done['id']}/content", headers=user)
        assert content.status_code == 410, content.text
        error = content.json()["error"]
        assert error["code"] == "video_expired" and "retention" in error["message"]
