"""Idempotency-Key: a retried create returns the first video; a changed body is a 409; races make one job."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx

from tests.conftest import LiveServer, free_port, server_env
from tests.media_helpers import make_image
from tests.security.keyed import bearer, create_key, reelay

BODY = {"prompt": "a red fox", "seconds": 2, "size": "640x360"}


def video_count(data_dir: Path) -> int:
    database = sqlite3.connect(data_dir / "reelay.db")
    try:
        return int(database.execute("SELECT count(*) FROM videos").fetchone()[0])
    finally:
        database.close()


def test_replay_conflict_and_limits(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        first = client.post("/v1/videos", json=BODY, headers={"Idempotency-Key": "order-1"})
        again = client.post("/v1/videos", json=BODY, headers={"Idempotency-Key": "order-1"})
        assert (first.status_code, again.status_code) == (202, 200)
        assert again.json()["id"] == first.json()["id"]
        changed = client.post(
            "/v1/videos", json={**BODY, "prompt": "a blue fox"}, headers={"Idempotency-Key": "order-1"}
        )
        assert changed.status_code == 409 and changed.json()["error"]["code"] == "idempotency_conflict"
        assert changed.json()["error"]["param"] == "Idempotency-Key"
        other = client.post("/v1/videos", json=BODY, headers={"Idempotency-Key": "order-2"})
        assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
        assert client.post("/v1/videos", json=BODY, headers={"Idempotency-Key": "k" * 256}).status_code == 202
        too_long = client.post("/v1/videos", json=BODY, headers={"Idempotency-Key": "k" * 257})
        assert too_long.status_code == 400 and too_long.json()["error"]["param"] == "Idempotency-Key"
        assert client.post("/v1/videos", json=BODY, headers={"Idempotency-Key": ""}).status_code == 400
        dry = client.post("/v1/videos?dryRun=true", json=BODY, headers={"Idempotency-Key": "order-1"})
        assert dry.status_code == 200 and "cost_estimate" in dry.json()  # a dry run is never replayed
    assert video_count(tmp_path) == 3


def test_every_fingerprinted_field_makes_a_conflict(tmp_path: Path) -> None:
    """The same key with any one field changed is a 409, never a replay of the first video."""
    changes: list[dict[str, object]] = [
        {"model": "wan-2.5"},
        {"seconds": 3},
        {"size": "1280x720"},
        {"size": None, "aspect_ratio": "9:16"},
        {"size": None, "resolution": "480p"},
        {"seed": 7},
        {"n": 2},
        {"camera_motion": "dolly-in"},  # an unknown parameter, passed through as extra
        {"webhook_url": "https://hooks.example.com/reelay"},
    ]
    with reelay(tmp_path, demo=True) as client:
        for number, change in enumerate(changes):
            key = {"Idempotency-Key": f"field-{number}"}
            changed = {k: v for k, v in {**BODY, **change}.items() if v is not None}
            first = client.post("/v1/videos", json=BODY, headers=key)
            assert first.status_code == 202, first.text
            again = client.post("/v1/videos", json=changed, headers=key)
            assert again.status_code == 409, (change, again.status_code, again.text)
            assert again.json()["error"]["code"] == "idempotency_conflict"


def test_uploads_count_by_content_not_encoding(tmp_path: Path) -> None:
    make_image(tmp_path / "a.png", 320, 240)
    make_image(tmp_path / "b.png", 320, 200)
    with reelay(tmp_path / "data") as client:

        def send(image: Path) -> httpx.Response:
            with open(image, "rb") as file:
                return client.post(
                    "/v1/videos",
                    data={"prompt": "push in", "seconds": "1"},
                    files={"input_reference": ("ref.png", file, "image/png")},
                    headers={"Idempotency-Key": "upload-1"},
                )

        first, again, other = send(tmp_path / "a.png"), send(tmp_path / "a.png"), send(tmp_path / "b.png")
        assert (first.status_code, again.status_code, other.status_code) == (202, 200, 409), other.text
        assert first.json()["id"] == again.json()["id"]


def test_keys_are_scoped_per_api_key_and_expire(tmp_path: Path) -> None:
    with reelay(tmp_path, idempotency_hours=0.5 / 3600) as client:
        admin = create_key(client, admin=True)
        alice, bob = bearer(create_key(client, admin)), bearer(create_key(client, admin))
        a = client.post("/v1/videos", json=BODY, headers={**alice, "Idempotency-Key": "same"}).json()["id"]
        b = client.post("/v1/videos", json=BODY, headers={**bob, "Idempotency-Key": "same"}).json()["id"]
        assert a != b
        time.sleep(0.6)  # past the (shortened) retention: the key may be used again
        later = client.post("/v1/videos", json={**BODY, "prompt": "new"}, headers={**alice, "Idempotency-Key": "same"})
        assert later.status_code == 202 and later.json()["id"] not in (a, b)


async def test_ten_concurrent_duplicates_create_one_job(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", free_port(), server_env(REELAY_RUN_WORKERS="false"))
    live.start()
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            responses = await asyncio.gather(
                *(client.post("/v1/videos", json=BODY, headers={"Idempotency-Key": "burst"}) for _ in range(10))
            )
            ids = {r.json()["id"] for r in responses}
            statuses = sorted(r.status_code for r in responses)
            listed = (await client.get("/v1/videos")).json()["data"]
    finally:
        live.stop()
    assert len(ids) == 1 and statuses == [200] * 9 + [202], statuses
    assert [v["id"] for v in listed] == list(ids)
    assert video_count(tmp_path / "data") == 1
    inputs = tmp_path / "data" / "files" / "inputs"
    assert not inputs.exists() or [p.name for p in inputs.iterdir()] in ([], list(ids))


def test_the_sweep_purges_expired_idempotency_keys(tmp_path: Path) -> None:
    def stored_keys() -> int:
        database = sqlite3.connect(tmp_path / "reelay.db")
        try:
            return int(database.execute("SELECT count(*) FROM idempotency_keys").fetchone()[0])
        finally:
            database.close()

    with reelay(tmp_path, idempotency_hours=0.0001) as client:  # 0.36 s
        response = client.post("/v1/videos", json={"prompt": "a"}, headers={"Idempotency-Key": "k-1"})
        assert response.status_code == 202, response.text
        assert stored_keys() == 1
        time.sleep(0.5)
        client.portal.call(client.app.state.worker.sweep)  # type: ignore[attr-defined]
        assert stored_keys() == 0
