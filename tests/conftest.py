"""Shared fixtures: a real ``reelay serve`` process, an in-process app, and test media."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.media_helpers import make_image, make_video
from tests.require_services import pytest_make_collect_report, pytest_runtest_makereport

# the hooks: REELAY_REQUIRE_SERVICES=1 turns skips into failures
__all__ = ["pytest_make_collect_report", "pytest_runtest_makereport"]

REELAY = str(Path(sys.executable).with_name("reelay"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A ``reelay serve`` subprocess on loopback, started exactly as the README says."""

    data_dir: Path
    port: int
    env: dict[str, str]
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    command: str = REELAY  # the `reelay` executable (another virtual environment's, for the bare install)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.log_path = self.data_dir.with_suffix(".log")
        log = open(self.log_path, "ab")  # noqa: SIM115  (kept open for the process's life)
        self.process = subprocess.Popen(
            [self.command, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"reelay serve exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"reelay serve did not start:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (server and render processes): a crash, not a shutdown."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELAY_")}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("serve") / "data", free_port(), server_env())
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    make_image(folder / "reference.png", 640, 480)
    make_video(folder / "input.mp4", seconds=2.0, width=320, height=240)
    make_video(folder / "silent.mp4", seconds=1.5, width=322, height=180, audio=False)
    (folder / "not-a-video.mp4").write_bytes(b"this is plain text, not a video\n" * 50)
    (folder / "not-an-image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 100)
    return folder


def wait_until_finished(client: httpx.Client, video_id: str, timeout: float = 90.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, object] = client.get(f"/v1/videos/{video_id}").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"video {video_id} did not finish in {timeout} s")
