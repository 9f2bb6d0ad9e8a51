"""The production app with xAI faked on loopback and API keys on: what the billing tests drive over HTTP."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.providers.xai import XAIProvider
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.xai_fake import XAIFake
from tests.security.keyed import bearer, create_key

GROK = {"model": "grok-imagine-video", "prompt": "a fox", "seconds": 5, "size": "1365x768"}  # estimate $0.25
FINISHED = ("completed", "failed", "cancelled", "expired")


@contextmanager
def xai_reelay(server: tuple[XAIFake, LoopbackServer], data_dir: Path, **overrides: Any) -> Iterator[TestClient]:
    values: dict[str, Any] = {"local_render_processes": 1, "retry_backoff_seconds": 0.01}
    values.update(overrides)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XAI_API_KEY", "test")
        patch.setenv("XAI_BASE_URL", server[1].url)
        patch.setattr(XAIProvider, "poll_interval", 0.02)
        with TestClient(create_app(Settings(data_dir=data_dir, **values))) as client:
            yield client


def keys(client: TestClient, budget_usd: float | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(admin headers, user headers) for a fresh admin and a user key with ``budget_usd``."""
    admin = create_key(client, admin=True)
    user = create_key(client, admin, budget_usd=budget_usd) if budget_usd is not None else create_key(client, admin)
    return bearer(admin), bearer(user)


def finish(client: httpx.Client, video_id: str, headers: dict[str, str], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/videos/{video_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in FINISHED:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} is stuck")


def settled(client: httpx.Client, video_id: str, headers: dict[str, str], timeout: float = 30.0) -> dict[str, Any]:
    """The finished video once its ``metadata.cost`` is settled or released (the listener runs after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = finish(client, video_id, headers)
        cost = body["metadata"]["cost"]
        if cost is not None and cost["state"] != "held":
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} was never settled")


def spent(client: TestClient, admin: dict[str, str], user: dict[str, str]) -> float:
    token = user["Authorization"].removeprefix("Bearer rly_").split(".")[0]
    listed = {k["id"]: k for k in client.get("/v1/admin/keys", headers=admin).json()["data"]}
    return float(listed[token]["spent_usd"])


def ledger_rows(data_dir: Path) -> list[tuple[str, str, float, float]]:
    """(video_id, state, held_usd, charged_usd) straight from the SQLite ledger table."""
    database = sqlite3.connect(data_dir / "reelay.db")
    try:
        rows = database.execute("SELECT video_id, state, held_usd, charged_usd FROM billing_ledger").fetchall()
    finally:
        database.close()
    return [(str(a), str(b), float(c), float(d)) for a, b, c, d in rows]
