"""Helpers for the access-control tests: an in-process app, its first admin key, stub DNS, a receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.config import Settings

PUBLIC_ADDRESS = "93.184.216.34"  # what the stub resolver answers for public names; never connected to


async def stub_resolver(host: str, port: int) -> list[str]:
    """DNS without the network: *.internal-test resolves private, everything else to a public address."""
    if host.endswith(".private-test"):
        return ["10.0.0.5"]
    return [PUBLIC_ADDRESS]


@contextmanager
def reelay(data_dir: Path, **overrides: Any) -> Iterator[TestClient]:
    """An app on ``data_dir`` with stubbed DNS for webhook checks; workers off unless asked for."""
    values: dict[str, Any] = {"local_render_processes": 1, "workers": 2, "run_workers": False}
    values.update(overrides)
    with TestClient(create_app(Settings(data_dir=data_dir, **values)), raise_server_exceptions=False) as client:
        client.app.state.ctx.guard.resolver = stub_resolver  # type: ignore[attr-defined]
        yield client


def create_key(client: TestClient, token: str | None = None, **body: Any) -> str:
    """A new key through the admin API (the very first one needs no token: no keys exist yet)."""
    response = client.post("/v1/admin/keys", json=body, headers=bearer(token) if token else {})
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def key_id(token: str) -> str:
    return token.removeprefix("rly_").split(".")[0]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A loopback webhook endpoint; answers ``statuses`` in turn (then 200) and records every request."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    event: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.event.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
