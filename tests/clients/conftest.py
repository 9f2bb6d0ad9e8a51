"""Fixtures for the client tests: a second server that requires an API key, and an MP4 check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, free_port, server_env
from tests.media_helpers import probe


@dataclass
class KeyedServer:
    live: LiveServer
    key: str

    @property
    def url(self) -> str:
        return self.live.url


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedServer]:
    """A ``reelay serve`` with one admin key (the first key needs no token), so every /v1 call needs it."""
    live = LiveServer(tmp_path_factory.mktemp("keyed") / "data", free_port(), server_env())
    live.start()
    try:
        response = httpx.post(f"{live.url}/v1/admin/keys", json={"name": "clients", "admin": True}, timeout=30)
        assert response.status_code == 201, response.text
        yield KeyedServer(live, response.json()["key"])
    finally:
        live.stop()


def assert_probed_mp4(path: Path, *, size: str, seconds: float) -> None:
    """A real H.264 MP4 of the asked size and length (probed with PyAV, independent of the server)."""
    info = probe(path)
    width, height = (int(v) for v in size.split("x"))
    assert info["video_codec"] == "h264", info
    assert (info["width"], info["height"]) == (width, height), info
    assert abs(float(info["duration"]) - seconds) <= 0.15, info  # type: ignore[arg-type]
