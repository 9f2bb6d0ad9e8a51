"""The CLI at 80 columns (a pipe, CI, a small terminal): full ids, nothing cut to nonsense; the exit
codes that tell failures apart; retrying while the server is briefly away."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reelay.cli.main import app
from tests.conftest import REELAY, LiveServer, free_port, server_env

runner = CliRunner()
COLUMNS = 80


def invoke(*args: str, **env: str) -> tuple[int, str, str]:
    base = {"REELAY_BASE_URL": "", "REELAY_API_KEY": "", "COLUMNS": str(COLUMNS), "REELAY_RETRY_SECONDS": "1"}
    result = runner.invoke(app, list(args), env={**base, **env})
    return result.exit_code, result.stdout, result.stderr


def assert_fits(text: str) -> None:
    wide = [line for line in text.splitlines() if len(line) > COLUMNS]
    assert not wide, wide


def test_videos_list_shows_full_ids_at_80_columns(server: LiveServer, tmp_path: Path) -> None:
    ids = []
    for prompt in ("a red fox in the snow, a very long prompt that will not fit in eighty columns", "short"):
        code, stdout, err = invoke(
            "generate", prompt, "--seconds", "1", "--size", "128x128", "--json", "--out", str(tmp_path / "a.mp4"),
            "--base-url", server.url,
        )  # fmt: skip
        assert code == 0, err
        ids.append(json.loads(stdout)["id"])
    code, stdout, _ = invoke("videos", "list", "--limit", "5", "--base-url", server.url)
    assert code == 0
    assert_fits(stdout)
    for video_id in ids:
        assert video_id in stdout  # whole, so it can be copied into `videos get`
        assert invoke("videos", "get", video_id, "--base-url", server.url)[0] == 0
    assert "reelay-local" in stdout and "a red fox in the snow" in stdout


def test_models_offline_at_80_columns() -> None:
    code, stdout, _ = invoke("models")
    assert code == 0
    assert_fits(stdout)
    for model in ("grok-imagine-video", "grok-imagine-video-1.5", "kling-2.1-master", "reelay-local"):
        assert any(line.split()[0] == model for line in stdout.splitlines() if line.strip()), model
    assert "5–10" in stdout  # kling's seconds, read from the card


def test_models_remote_at_80_columns(server: LiveServer) -> None:
    code, stdout, _ = invoke("models", "--base-url", server.url)
    assert code == 0
    assert_fits(stdout)
    assert "grok-imagine-video-1.5" in stdout and "reelay-local" in stdout


def test_keys_list_at_80_columns(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    code, stdout, err = invoke("keys", "create", "--name", "ci-pipeline", "--rpm", "60", "--budget-usd", "5",
                               "--data-dir", data)  # fmt: skip
    assert code == 0, err
    code, stdout, err = invoke("keys", "list", "--data-dir", data)
    assert code == 0, err
    assert_fits(stdout)
    assert "ci-pipeline" in stdout and "active" in stdout and "0.00/5" in stdout and "60/-" in stdout


class _Refusing(BaseHTTPRequestHandler):
    """A loopback fake answering every call with one status and an OpenAI-shaped error."""

    status = 500

    def do_GET(self) -> None:
        body = json.dumps({"error": {"message": f"fake {self.status}", "type": "x", "code": "x", "param": None}})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[type[_Refusing]]:
    handler = type("Handler", (_Refusing,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("status", "code"), [(400, 4), (404, 4), (401, 5), (403, 5), (429, 6), (500, 7), (503, 7)])
def test_each_kind_of_failure_has_its_exit_code(refusing: type[_Refusing], status: int, code: int) -> None:
    refusing.status = status
    exit_code, _, err = invoke("videos", "list", "--base-url", refusing.url)  # type: ignore[attr-defined]
    assert exit_code == code, err
    assert f"HTTP {status}" in err


def test_generate_waits_for_a_server_that_comes_back(tmp_path: Path) -> None:
    """The server is down when generate starts and comes up a few seconds later: it retries, then finishes."""
    port = free_port()
    env = {**server_env(), "REELAY_RETRY_SECONDS": "90", "COLUMNS": str(COLUMNS)}
    process = subprocess.Popen(
        [REELAY, "generate", "late server", "--seconds", "1", "--size", "128x128", "--base-url",
         f"http://127.0.0.1:{port}", "--out", str(tmp_path / "late.mp4")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    time.sleep(2)
    live = LiveServer(tmp_path / "data", port, server_env())
    live.start()
    try:
        _, err = process.communicate(timeout=120)
    finally:
        live.stop()
    assert process.returncode == 0, err
    assert "retrying in" in err
    assert (tmp_path / "late.mp4").stat().st_size > 0
