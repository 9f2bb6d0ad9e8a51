"""Gateway processes for the benchmarks: start one in its own session, time it to its first answer,
add up the resident memory of its whole process tree, stop it with everything it started."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def base_env() -> dict[str, str]:
    """This environment without any gateway's settings, with loopback exempt from proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REELAY_", "LITELLM_", "OPENAI_"))}
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    started_s: float = 0.0
    start_cpu_s: float = 0.0  # CPU time of the tree by then: steadier than wall time on a busy machine

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, 15)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, 9)
                self.popen.wait()


def launch(name: str, args: list[str], env: dict[str, str], port: int, health: str, log: Path) -> Server:
    """Start ``args`` in its own session and time it to the first answer on ``health``."""
    handle = open(log, "ab")  # noqa: SIM115  (kept for the process's life)
    start = time.perf_counter()
    popen = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    server = Server(name, popen, port)
    deadline = start + 180
    while time.perf_counter() < deadline:
        if popen.poll() is not None:
            raise SystemExit(f"{name} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=1) as answer:
                if answer.status < 500:
                    server.started_s = time.perf_counter() - start
                    server.start_cpu_s = tree_cpu_seconds(popen.pid)
                    return server
        except OSError:
            time.sleep(0.02)
    server.stop()
    raise SystemExit(f"{name} did not answer {health} within 180 s:\n{log.read_text(errors='replace')[-3000:]}")


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (render pools, trackers, workers)."""
    total, queue = 0, [pid]
    while queue:
        current = queue.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return total


def tree_processes(pid: int) -> list[tuple[int, int, str]]:
    """(pid, resident bytes, command line) for ``pid`` and each descendant."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            command = Path(f"/proc/{current}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            rss = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            found.append((current, rss, command.strip()))
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child, _, _ in tree_processes(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total
