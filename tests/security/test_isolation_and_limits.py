"""Each key sees only its own videos; per-key limits (rpm, concurrency, budget) live in the database."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.errors import RateLimited
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.store import make_engine
from reelay.security.keys import ApiKey, KeyLimits
from reelay.security.models import RateWindowRow
from reelay.security.ratelimit import DefaultLimits, RateLimiter
from tests.security.keyed import bearer, create_key, key_id, reelay

PRICED = {"model": "grok-imagine-video", "prompt": "a fox", "seconds": 5}  # $0.25 in demo mode


def test_a_key_sees_only_its_own_videos(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        admin = create_key(client, admin=True)
        alice, bob = create_key(client, admin), create_key(client, admin)
        mine = client.post("/v1/videos", json={"prompt": "a fox", "seconds": 1}, headers=bearer(alice)).json()
        assert mine["id"]
        video = mine["id"]
        as_bob = bearer(bob)
        for method, path in (
            ("GET", f"/v1/videos/{video}"),
            ("GET", f"/v1/videos/{video}/content"),
            ("DELETE", f"/v1/videos/{video}"),
            ("POST", f"/v1/videos/{video}/cancel"),
        ):
            response = client.request(method, path, headers=as_bob)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "video_not_found"
        remix = client.post(f"/v1/videos/{video}/remix", json={"prompt": "again"}, headers=as_bob)
        assert remix.status_code == 404
        edit = client.post("/v1/videos/edits", json={"prompt": "bw", "video": {"id": video}}, headers=as_bob)
        assert edit.status_code == 404
        assert client.get("/v1/videos", headers=as_bob).json()["data"] == []
        assert [v["id"] for v in client.get("/v1/videos", headers=bearer(alice)).json()["data"]] == [video]
        assert client.get(f"/v1/videos/{video}", headers=bearer(admin)).status_code == 200
        assert video in [v["id"] for v in client.get("/v1/videos", headers=bearer(admin)).json()["data"]]
        assert client.get(f"/v1/videos/{video}", headers=bearer(alice)).json()["status"] == "queued"
    database = sqlite3.connect(tmp_path / "reelay.db")
    assert database.execute("SELECT owner FROM videos").fetchall() == [(key_id(alice),)]
    database.close()


def finished(client: TestClient, video_id: str, token: str, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/videos/{video_id}", headers=bearer(token)).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{video_id} did not finish in {timeout} s")


@pytest.mark.parametrize(
    ("path", "field"),
    [("/v1/videos", "input_video"), ("/v1/videos/edits", "video"), ("/v1/videos/extensions", "video")],
)
def test_another_keys_video_is_not_an_input(tmp_path: Path, path: str, field: str) -> None:
    """With ``model`` set the request gets past the model lookup and reaches the input lookup itself."""
    with reelay(tmp_path, run_workers=True) as client:
        admin = create_key(client, admin=True)
        alice, bob = create_key(client, admin), create_key(client, admin)
        made = client.post(
            "/v1/videos", json={"prompt": "a fox", "seconds": 1, "size": "320x180"}, headers=bearer(alice)
        )
        video = made.json()["id"]
        assert finished(client, video, alice)["status"] == "completed"
        body = {"model": "reelay-local", "prompt": "again", "seconds": 1, field: {"id": video}}
        stolen = client.post(path, json=body, headers=bearer(bob))
        assert stolen.status_code == 404, stolen.text
        assert stolen.json()["error"]["code"] == "video_not_found"
        own = client.post(path, json=body, headers=bearer(alice))  # the same body is fine for its owner
        assert own.status_code == 202, own.text


def test_requests_per_minute_are_shared_between_processes(tmp_path: Path) -> None:
    with reelay(tmp_path) as first, reelay(tmp_path) as second:  # two API processes, one database
        admin = create_key(first, admin=True)
        limited = bearer(create_key(first, admin, rpm=4))
        statuses = [client.get("/v1/videos", headers=limited).status_code for client in (first, second) * 2]
        assert statuses == [200] * 4
        refused = second.get("/v1/videos", headers=limited)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert first.get("/v1/videos", headers=limited).status_code == 429
        assert first.get("/v1/videos", headers=bearer(admin)).status_code == 200  # other keys are unaffected


def test_default_rpm_from_settings(tmp_path: Path) -> None:
    with reelay(tmp_path, default_rpm=2) as client:
        admin = create_key(client, admin=True)
        user = bearer(create_key(client, admin))
        assert [client.get("/v1/models", headers=user).status_code for _ in range(3)] == [200, 200, 429]
        own = bearer(create_key(client, admin, rpm=10))  # a key's own limit wins over the default
        assert [client.get("/v1/models", headers=own).status_code for _ in range(3)] == [200] * 3


def test_concurrent_jobs_limit(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:  # no workers run here: jobs stay queued until cancelled
        admin = create_key(client, admin=True)
        user = bearer(create_key(client, admin, max_concurrent=2))
        ids = [client.post("/v1/videos", json={"prompt": f"v{i}"}, headers=user).json()["id"] for i in range(2)]
        refused = client.post("/v1/videos", json={"prompt": "third"}, headers=user)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited" and refused.headers["Retry-After"] == "5"
        assert client.post("/v1/videos", json={"prompt": "admin"}, headers=bearer(admin)).status_code == 202
        assert client.post(f"/v1/videos/{ids[0]}/cancel", headers=user).json()["status"] == "cancelled"
        assert client.post("/v1/videos", json={"prompt": "third"}, headers=user).status_code == 202
        assert len(client.get("/v1/videos", headers=user).json()["data"]) == 3  # the refused one never existed


def test_budget_answers_402(tmp_path: Path) -> None:
    with reelay(tmp_path, demo=True) as client:
        admin = create_key(client, admin=True)
        token = create_key(client, admin, budget_usd=0.6)
        user = bearer(token)
        estimate = client.post("/v1/videos?dryRun=true", json=PRICED, headers=user)
        assert estimate.status_code == 200 and estimate.json()["cost_estimate"] == 0.25  # a dry run is free
        assert [client.post("/v1/videos", json=PRICED, headers=user).status_code for _ in range(2)] == [202, 202]
        refused = client.post("/v1/videos", json=PRICED, headers=user)
        assert refused.status_code == 402, refused.text
        error = refused.json()["error"]
        assert error["code"] == "insufficient_quota" and error["type"] == "insufficient_quota"
        assert "$0.1000" in error["message"]
        keys = {k["id"]: k for k in client.get("/v1/admin/keys", headers=bearer(admin)).json()["data"]}
        assert keys[key_id(token)]["spent_usd"] == 0.5
        assert len(client.get("/v1/videos", headers=user).json()["data"]) == 2


def test_default_budget_from_settings(tmp_path: Path) -> None:
    with reelay(tmp_path, demo=True, default_budget_usd=0.3) as client:
        admin = create_key(client, admin=True)
        user = bearer(create_key(client, admin))
        assert [client.post("/v1/videos", json=PRICED, headers=user).status_code for _ in range(2)] == [202, 402]


def _key(key_id: str, rpm: int | None) -> ApiKey:
    return ApiKey(key_id, "", False, KeyLimits(rpm=rpm), 0.0, 0.0, None, None)


async def _windows(engine: AsyncEngine) -> set[tuple[str, int, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(RateWindowRow.key_id, RateWindowRow.window, RateWindowRow.count))
        return {(row.key_id, row.window, row.count) for row in rows}


async def test_the_minute_window_turns_and_old_windows_are_dropped(tmp_path: Path) -> None:
    """The limiter alone, on a clock the test sets: minute 1000 is [60000, 60060)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    limiter = RateLimiter(engine, DefaultLimits(rpm=2))
    one, other = _key("k1", 1), _key("k2", None)  # k2 takes the server default (2)
    try:
        await limiter.hit(one, now=60_000.0)  # a limit of 1 lets the first request through
        with pytest.raises(RateLimited) as refused:
            await limiter.hit(one, now=60_010.0)
        assert refused.value.retry_after == 50.0
        assert refused.value.message == "API key k1 is limited to 1 requests per minute; retry in 50 s"
        with pytest.raises(RateLimited) as late:
            await limiter.hit(one, now=60_059.5)
        assert late.value.retry_after == 1.0  # never less than a second
        await limiter.hit(other, now=60_001.0)
        await limiter.hit(one, now=60_060.0)  # a new minute: counted afresh
        assert await _windows(engine) == {("k1", 1001, 1), ("k2", 1000, 1)}  # k1's old minute dropped only
        # Another API process whose clock is behind opens minute 1000 again: k1's minute 1001 stays.
        await limiter.hit(one, now=60_059.0)
        with pytest.raises(RateLimited):
            await limiter.hit(one, now=60_061.0)
        assert await _windows(engine) == {("k1", 1000, 1), ("k1", 1001, 2), ("k2", 1000, 1)}
    finally:
        await engine.dispose()


def test_limits_at_their_exact_edge_and_the_defaults(tmp_path: Path) -> None:
    with reelay(tmp_path, demo=True, default_max_concurrent=2, default_budget_usd=0.5) as client:
        admin = create_key(client, admin=True)
        spender = bearer(create_key(client, admin, max_concurrent=10))  # the default budget, its own concurrency
        statuses = [client.post("/v1/videos", json=PRICED, headers=spender).status_code for _ in range(3)]
        assert statuses == [202, 202, 402]  # $0.25 twice spends the $0.50 budget to the cent, no further
        token = create_key(client, admin)  # the default concurrency (2)
        user = bearer(token)
        assert [client.post("/v1/videos", json={"prompt": f"v{i}"}, headers=user).status_code for i in range(2)] == [
            202,
            202,
        ]
        refused = client.post("/v1/videos", json={"prompt": "third"}, headers=user).json()["error"]
        assert refused["message"] == (
            f"API key {key_id(token)} already has 2 unfinished videos, its limit; retry when one finishes (or "
            "cancel one with POST /v1/videos/{id}/cancel)"
        )
