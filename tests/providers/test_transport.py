"""The shared provider client (providers/transport.py): httpx's API over aiohttp's pool, against a real
loopback server. What adapters rely on: status, headers, JSON, streamed downloads, multipart uploads,
kept-alive connections, and every failure as an httpx error that ``providers.http`` maps."""

from __future__ import annotations

import gzip
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from reelay.errors import UpstreamError, UpstreamTimeout
from reelay.providers import http
from reelay.providers.transport import ProviderTransport, provider_client

BIG = bytes(range(256)) * 4096  # 1 MiB


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peers: ClassVar[set[int]] = set()
    uploads: ClassVar[list[bytes]] = []
    authorizations: ClassVar[list[str | None]] = []
    accepts: ClassVar[list[list[str]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        _Handler.peers.add(self.client_address[1])
        if self.path == "/video":
            _Handler.authorizations.append(self.headers.get("Authorization"))
            _Handler.accepts.append(self.headers.get_all("Accept") or [])
            self._send(200, b'{"id": "v1", "status": "in_progress"}', openai_poll_after_ms="2500")
        elif self.path == "/gz":
            self._send(200, gzip.compress(b'{"id": "v1", "status": "completed"}'), content_encoding="gzip")
        elif self.path == "/moved":
            self._send(302, b"", location="/video")
        elif self.path == "/big":
            self._send(200, BIG, content_type="video/mp4")
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, b"{}")
        elif self.path == "/cut":  # promises a body, sends half, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 500)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._send(404, b'{"error": {"message": "no such video"}}')

    def do_POST(self) -> None:
        _Handler.uploads.append(self.rfile.read(int(self.headers["Content-Length"])))
        self._send(200, b'{"id": "v2"}')


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.peers, _Handler.uploads, _Handler.authorizations, _Handler.accepts = set(), [], [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


async def test_polls_reuse_kept_alive_connections(server: str) -> None:
    async with provider_client(8) as client:
        for _ in range(50):
            response = await http.request("p", client, "GET", f"{server}/video", headers={"Authorization": "Bearer k"})
            assert http.json_body("p", response) == {"id": "v1", "status": "in_progress"}
            assert response.headers["openai-poll-after-ms"] == "2500"
    assert len(_Handler.peers) == 1  # one connection for 50 sequential polls


async def test_the_lean_get_decodes_follows_redirects_and_sends_the_headers(server: str) -> None:
    """Polls skip httpx's client layer; what an adapter reads must not change."""
    async with provider_client(8) as client:
        packed = await http.request("p", client, "GET", f"{server}/gz")
        headers = {"Authorization": "Bearer k", "Accept": "application/json"}  # replaces httpx's "accept"
        moved = await http.request("p", client, "GET", f"{server}/moved", headers=headers)
        through_httpx = await client.get(f"{server}/gz")  # the general path, for comparison
    assert http.json_body("p", packed) == {"id": "v1", "status": "completed"} == through_httpx.json()
    assert moved.status_code == 200 and moved.json()["id"] == "v1"
    assert _Handler.authorizations == ["Bearer k"] and _Handler.accepts == [["application/json"]]


async def test_error_statuses_keep_their_meaning(server: str) -> None:
    async with provider_client(8) as client:
        response = await http.request("p", client, "GET", f"{server}/missing")
        with pytest.raises(UpstreamError) as raised:
            http.json_body("p", response)
    assert raised.value.code == "upstream_rejected" and "no such video" in raised.value.message


async def test_a_streamed_download_and_a_multipart_upload(server: str, tmp_path: Path) -> None:
    async with provider_client(8) as client:
        written = await http.download("p", client, f"{server}/big", tmp_path / "out.mp4")
        files = {"file": ("clip.mp4", BIG, "video/mp4")}
        response = await http.request("p", client, "POST", f"{server}/upload", data={"a": "1"}, files=files)
    assert written == len(BIG) and (tmp_path / "out.mp4").read_bytes() == BIG
    assert response.status_code == 200 and BIG in _Handler.uploads[0] and b'name="a"' in _Handler.uploads[0]


async def test_failures_come_out_as_retryable_upstream_errors(server: str) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    async with provider_client(8) as client:
        with pytest.raises(UpstreamError) as refused:
            await http.request("p", client, "GET", f"http://127.0.0.1:{port}/video")
        with pytest.raises(UpstreamTimeout):
            await http.request("p", client, "GET", f"{server}/slow", timeout=httpx.Timeout(0.5))
        with pytest.raises(UpstreamError) as cut:
            await http.download("p", client, f"{server}/cut", Path("/dev/null"))
    assert refused.value.retryable and cut.value.retryable


def test_aiohttp_loads_on_the_first_provider_request_only() -> None:
    check = (
        "import sys\nfrom reelay.providers.transport import provider_client\nclient = provider_client(4)\n"
        "print('aiohttp' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
    assert isinstance(provider_client(4)._transport, ProviderTransport)
