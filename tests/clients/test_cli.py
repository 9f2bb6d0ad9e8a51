"""``reelay generate`` / ``videos`` / ``models --base-url`` through typer's CliRunner against a live server.

Ctrl-C is tested with a real subprocess and SIGINT; the exit-1 path against a loopback fake whose
job fails (the local engine does not fail on demand).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from reelay.cli.main import app
from tests.clients.conftest import KeyedServer, assert_probed_mp4
from tests.conftest import REELAY, LiveServer, free_port, server_env

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    env = {"REELAY_BASE_URL": "", "REELAY_API_KEY": "", "COLUMNS": "200", "REELAY_RETRY_SECONDS": "1"}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_generate_two_results_with_progress_and_paths(server: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "fox.mp4"
    code, _, err = invoke(
        "generate", "a red fox in the snow", "--seconds", "2", "--size", "320x180", "-n", "2",
        "--out", str(out), "--base-url", server.url,
    )  # fmt: skip
    assert code == 0, err
    assert "submitted video_" in err and "100%" in err
    for index in (1, 2):
        path = tmp_path / f"fox-{index}.mp4"
        assert f"saved {path}" in err.replace("\n", "")
        assert_probed_mp4(path, size="320x180", seconds=2)


def test_generate_json_with_an_image(server: LiveServer, media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "push.mp4"
    code, stdout, err = invoke(
        "generate", "slow push in", "--image", str(media_dir / "reference.png"), "--seconds", "2",
        "--size", "640x480", "--out", str(out), "--json", "--base-url", server.url + "/v1",
    )  # fmt: skip
    assert code == 0, err
    video = json.loads(stdout)  # stdout holds the video object and nothing else
    assert video["status"] == "completed" and video["object"] == "video"
    assert any(item["param"].startswith("input_reference") for item in video["metadata"]["normalization"])
    assert_probed_mp4(out, size="640x480", seconds=2)


def test_videos_list_get_download_delete(server: LiveServer, tmp_path: Path) -> None:
    code, stdout, err = invoke(
        "generate", "list me", "--seconds", "1", "--size", "128x128", "--json", "--out", str(tmp_path / "a.mp4"),
        "--base-url", server.url,
    )  # fmt: skip
    assert code == 0, err
    video_id = json.loads(stdout)["id"]
    code, stdout, _ = invoke("videos", "list", "--limit", "5", "--json", "--base-url", server.url)
    assert code == 0 and video_id in [v["id"] for v in json.loads(stdout)["data"]]
    code, stdout, _ = invoke("videos", "list", "--limit", "5", "--base-url", server.url)
    assert code == 0 and "list me" in stdout
    code, stdout, _ = invoke("videos", "get", video_id, "--base-url", server.url)
    assert code == 0 and json.loads(stdout)["id"] == video_id
    target = tmp_path / "again.mp4"
    code, _, err = invoke("videos", "download", video_id, "--out", str(target), "--base-url", server.url)
    assert code == 0, err
    assert_probed_mp4(target, size="128x128", seconds=1)
    code, _, err = invoke("videos", "download", video_id, "--variant", "thumbnail", "--out", str(tmp_path / "t.jpg"),
                          "--base-url", server.url)  # fmt: skip
    assert code == 0 and (tmp_path / "t.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    code, stdout, _ = invoke("videos", "delete", video_id, "--base-url", server.url)
    assert code == 0 and f"deleted {video_id}" in stdout
    code, _, err = invoke("videos", "get", video_id, "--base-url", server.url)
    assert code == 4 and "404" in err and "no video with id" in err


def test_models_remote_and_offline(server: LiveServer) -> None:
    code, stdout, _ = invoke("models", "--base-url", server.url)
    assert code == 0 and "reelay-local" in stdout and "available" in stdout
    code, stdout, _ = invoke("models")
    assert code == 0 and "reelay-local" in stdout and "$/s" in stdout


def test_exit_codes_for_usage_and_http_errors(server: LiveServer, tmp_path: Path) -> None:
    code, _, _ = invoke("generate", "x", "--image", str(tmp_path / "missing.jpg"), "--base-url", server.url)
    assert code == 2  # bad usage: the file does not exist
    code, _, err = invoke("generate", "x", "--model", "no-such-model", "--base-url", server.url)
    assert code == 4 and "HTTP 4" in err  # the server refused the input: not "server down"
    code, _, err = invoke("generate", "x", "--size", "0x0", "--base-url", server.url)
    assert code == 4 and "size" in err
    code, _, err = invoke("videos", "list", "--base-url", f"http://127.0.0.1:{free_port()}")
    assert code == 3 and "cannot reach Reelay" in err


def test_api_key_is_sent_as_bearer(keyed_server: KeyedServer) -> None:
    code, _, err = invoke("videos", "list", "--base-url", keyed_server.url)
    assert code == 5 and "HTTP 401" in err
    result = runner.invoke(app, ["videos", "list", "--json"], env={"REELAY_BASE_URL": keyed_server.url,
                                                                   "REELAY_API_KEY": keyed_server.key})  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["object"] == "list"


class _FailingVideos(BaseHTTPRequestHandler):
    """A loopback fake of the Videos API whose every job fails."""

    def _json(self, body: dict[str, object], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _video(self, status: str) -> dict[str, object]:
        error = {"code": "upstream_error", "message": "the provider gave up"} if status == "failed" else None
        return {"id": "video_fake", "object": "video", "model": "m", "status": status, "progress": 0,
                "size": "128x128", "seconds": "1", "error": error}  # fmt: skip

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._json(self._video("queued"), 202)

    def do_GET(self) -> None:
        self._json(self._video("failed"))

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FailingVideos)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_failed_job_exits_1_with_the_reason(failing_server: str, tmp_path: Path) -> None:
    code, _, err = invoke("generate", "doomed", "--out", str(tmp_path / "x.mp4"), "--base-url", failing_server)
    assert code == 1 and "upstream_error" in err and "the provider gave up" in err
    assert not (tmp_path / "x.mp4").exists()


def test_ctrl_c_cancels_the_job_without_a_terminal(server: LiveServer, tmp_path: Path) -> None:
    """No TTY: Ctrl-C (SIGINT) cancels on the server without asking, and exits 130."""
    process = subprocess.Popen(
        [REELAY, "generate", "a long one", "--seconds", "15", "--size", "1280x720", "--base-url", server.url],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=server_env(),
    )  # fmt: skip
    video_id = _wait_for_submission(process)
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    # The worker holding the render ends it; the CLI waits up to 10 s to say so, and says "cancel
    # requested" instead when the machine is too busy to confirm in time.
    assert f"cancelled {video_id}" in err or f"cancel requested for {video_id}" in err, err
    deadline = time.monotonic() + 60
    while (final := httpx.get(f"{server.url}/v1/videos/{video_id}")).json()["status"] != "cancelled":
        assert final.json()["status"] == "in_progress" and time.monotonic() < deadline, final.text
        time.sleep(0.2)
    assert final.status_code == 200  # cancelled, not deleted: still there


def _wait_for_submission(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "submitted video_" in line:
            return line.split("submitted ", 1)[1].split()[0]
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("reelay generate did not report a submission")


def test_worker_logs_json_lines_with_secrets_redacted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`reelay worker` logs as `reelay serve` does (one JSON object per line, keys redacted), not
    through a bare basicConfig that would print an API key handed to a log call.

    The worker's body (``_run``, which needs PostgreSQL) is replaced by one that logs a secret; what
    the command wrote to stderr is then read back line by line.
    """
    import logging

    from reelay.cli import worker as worker_cli

    secret = "xai-0123456789abcdefghij"
    ran: list[object] = []

    async def fake_run(settings: object) -> None:
        ran.append(settings)
        logging.getLogger("reelay.worker").warning("calling upstream with Bearer %s", secret)

    monkeypatch.setattr(worker_cli, "_run", fake_run)
    monkeypatch.setenv("REELAY_QUEUE", "procrastinate")
    monkeypatch.setenv("REELAY_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/unused")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = runner.invoke(app, ["worker", "--data-dir", str(tmp_path)])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert result.exit_code == 0, result.output
    assert len(ran) == 1
    assert secret not in result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    (logged,) = [line for line in lines if "calling upstream" in line["message"]]
    assert logged["level"] == "warning" and logged["logger"] == "reelay.worker"
    assert "Bearer" in logged["message"]
