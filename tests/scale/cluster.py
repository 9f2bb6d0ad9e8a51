"""Processes of a scale-out deployment on loopback, for the proof test and bench/scale.py.

``reelay serve`` / ``reelay worker`` run as real subprocesses (each its own process group, so a
SIGKILL takes its media pool too); moto's S3 server and the fake provider stand in for the bucket and
the upstream. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import redis
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
REELAY = str(Path(sys.executable).with_name("reelay"))
S3_KEY = "testing"
FAKE_KEY = "fake-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY, aws_secret_access_key=S3_KEY
    )


def redis_unreachable_reason() -> str | None:
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        return f"Redis on 127.0.0.1:6379 is unreachable: {error}"
    return None


def scale_env(*, database_url: str, s3_endpoint: str, bucket: str, fake_url: str, **extra: str) -> dict[str, str]:
    """The environment of every Reelay process of one deployment (configuration only, no code)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REELAY_", "AWS_"))}
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        REELAY_DATABASE_URL=database_url,
        REELAY_QUEUE="procrastinate",
        REELAY_STORAGE="s3",
        REELAY_S3_BUCKET=bucket,
        REELAY_S3_ENDPOINT_URL=s3_endpoint,
        REELAY_S3_REGION="us-east-1",
        REELAY_S3_ACCESS_KEY_ID=S3_KEY,
        REELAY_S3_SECRET_ACCESS_KEY=S3_KEY,
        REELAY_OPENAI_COMPATIBLE_API_KEY=FAKE_KEY,
        REELAY_OPENAI_COMPATIBLE_BASE_URL=fake_url,
        REELAY_LOCAL_RENDER_PROCESSES="1",
    )
    env.update(extra)
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.popen.returncode

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Cluster:
    """Starts processes in ``root`` with ``env``; ``close()`` stops them all."""

    root: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None, url: str | None = None) -> Proc:
        log = self.root / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115  (kept open for the process's life)
        popen = subprocess.Popen(
            args, stdout=handle, stderr=subprocess.STDOUT, env=env or self.env, cwd=ROOT, start_new_session=True
        )
        proc = Proc(name, popen, log, url)
        self.procs.append(proc)
        return proc

    def migrate(self) -> None:
        result = subprocess.run([REELAY, "migrate"], env=self.env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr

    def fake(self, video: Path, *, min_latency: float, max_latency: float, poll_after_ms: int) -> Proc:
        port = free_port()
        args = [sys.executable, "-m", "tests.scale.fake_videos", "--port", str(port), "--video", str(video)]
        args += ["--min-latency", str(min_latency), "--max-latency", str(max_latency)]
        args += ["--poll-after-ms", str(poll_after_ms), "--api-key", FAKE_KEY]
        return self.spawn("fake", args, url=f"http://127.0.0.1:{port}")

    def serve_in_front_of(self, fake: Proc, data_dir: Path, **extra: str) -> Proc:
        """A default ``reelay serve`` (SQLite, no tuning flags, a clean environment) whose
        OpenAI-compatible provider is ``fake``; ``extra`` adds ``REELAY_*`` settings. Ready on return."""
        port = free_port()
        env = {
            "PATH": "/usr/bin:/bin",
            "NO_PROXY": "127.0.0.1,localhost",
            "REELAY_OPENAI_COMPATIBLE_API_KEY": FAKE_KEY,
            "REELAY_OPENAI_COMPATIBLE_BASE_URL": f"{fake.url}/v1",
            **extra,
        }
        args = [REELAY, "serve", "--port", str(port), "--data-dir", str(data_dir)]
        serve = self.spawn("serve", args, env=env, url=f"http://127.0.0.1:{port}")
        self.wait_ready(serve, "/healthz")
        return serve

    def api(self, index: int, **extra: str) -> Proc:
        port = free_port()
        args = [REELAY, "serve", "--port", str(port), "--data-dir", str(self.root / f"api{index}")]
        env = {**self.env, "REELAY_RUN_WORKERS": "false", **extra}
        return self.spawn(f"api{index}", args, env=env, url=f"http://127.0.0.1:{port}")

    def worker(self, index: int, concurrency: int, *extra_args: str) -> Proc:
        args = [REELAY, "worker", "--concurrency", str(concurrency), "--data-dir", str(self.root / f"worker{index}")]
        return self.spawn(f"worker{index}", [*args, *extra_args])

    def wait_ready(self, proc: Proc, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
            try:
                if httpx.get(f"{proc.url}{path}", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{proc.name} did not start:\n{proc.tail()}")

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (VmRSS), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the media pool's children included)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children") if Path(f"/proc/{current}").exists() else []:
            queue.extend(int(child) for child in task.read_text().split())
    return found
