"""Reelay beside LiteLLM's proxy, in front of the same loopback OpenAI-Videos upstream: `python bench/vs_litellm.py`.

One command, one run, both gateways one after the other on the same machine:
- installs LiteLLM (``LITELLM_VERSION``) and its proxy dependencies into a virtual environment of its
  own, ``bench/.venvs/litellm-<version>`` (gitignored; reused when present). ``pip install
  litellm[proxy]`` resolves an older release on some indexes, so the wheel is installed alone and its
  ``proxy`` extra is read from its own metadata and installed by hand; ``litellm-proxy`` is skipped
  (the proxy ships inside the ``litellm`` wheel) and pins the index cannot meet are relaxed;
- starts the fake OpenAI Videos server (``tests/scale/fake_videos.py``; its content is a real MP4,
  every video completes ``--upstream-seconds`` after its create);
- runs LiteLLM's proxy routing ``sora-2`` (``openai/sora-2`` at the fake), then a default
  ``reelay serve`` routing ``wan2.2-t2v`` (the OpenAI-compatible provider at the fake), and for each:
  start-up to the first answer from its health route; sequential p50/p90/p99 on one keep-alive
  connection for create, retrieve and content, minus the bare upstream's own figures measured just
  before; 16 concurrent clients for ``--seconds`` each of create and retrieve (closed loop); the
  process tree's resident memory after the run.

Reelay answers a create from its database and submits upstream in the background (two jobs at a
time by default); LiteLLM forwards every call. Figures move with the machine: compare within one run.
It reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadgen import Connection, percentile  # bench/loadgen.py (scripts run from bench/)
from machine import cpu_model
from procs import Server, base_env, free_port, launch, tree_processes, tree_rss_bytes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.* helpers: the fake upstream and the MP4 maker

from tests.media_helpers import make_video  # noqa: E402

LITELLM_VERSION = "1.110.2"
VENV = ROOT / "bench" / ".venvs" / f"litellm-{LITELLM_VERSION}"
UPSTREAM_KEY = "fake-key"
Request = tuple[str, str, bytes, tuple[tuple[str, str], ...]]  # method, path, body, headers
MASTER_KEY = "sk-reelay-bench-0123456789abcdef0123456789abcdef"  # LiteLLM refuses to start without one
GATEWAY_AUTH = (("Authorization", f"Bearer {MASTER_KEY}"),)  # Reelay, with no keys configured, ignores it
JSON_HEADERS = (*GATEWAY_AUTH, ("Content-Type", "application/json"))


# -- LiteLLM's environment -------------------------------------------------------------------------


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *args], capture_output=True, text=True)


def ensure_litellm() -> Path:
    """The venv's ``litellm`` executable, installing the pinned release and its proxy extra once."""
    stamp = VENV / "reelay-bench-installed"
    if stamp.exists():
        return VENV / "bin" / "litellm"
    print(f"installing litellm=={LITELLM_VERSION} and its proxy dependencies into {VENV} (once) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    result = pip(f"litellm=={LITELLM_VERSION}", "packaging")
    if result.returncode != 0:
        raise SystemExit(f"pip could not install litellm=={LITELLM_VERSION}:\n{result.stderr[-2000:]}")
    read_extra = (
        "from importlib.metadata import requires\nfrom packaging.requirements import Requirement\n"
        "for line in requires('litellm'):\n    r = Requirement(line)\n"
        "    if r.marker and 'extra' in str(r.marker) and r.marker.evaluate({'extra': 'proxy'}):\n"
        "        r.marker = None\n        print(r)\n"
    )
    listed = subprocess.run([str(VENV / "bin" / "python"), "-c", read_extra], capture_output=True, text=True)
    wanted = [line for line in listed.stdout.split() if not line.startswith("litellm-proxy==")]
    if pip(*wanted).returncode != 0:  # an index that lags the release: take what it has of the pinned ones
        result = pip(*(line.split("==")[0] for line in wanted))
        if result.returncode != 0:
            raise SystemExit(f"pip could not install LiteLLM's proxy dependencies:\n{result.stderr[-2000:]}")
    stamp.write_text(" ".join(wanted) + "\n")
    return VENV / "bin" / "litellm"


# -- load ------------------------------------------------------------------------------------------


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # what the failures were
    seconds: float = 0.0
    bodies: list[bytes] = field(default_factory=list)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000 if self.latencies else float("nan")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def sequential(port: int, requests: Callable[[int], Request], count: int, warmup: int = 20) -> Sample:
    """``count`` requests one after the other on one keep-alive connection, after ``warmup`` unmeasured."""
    sample, connection = Sample(), Connection("127.0.0.1", port)
    try:
        for n in range(warmup + count):
            method, path, body, headers = requests(n)
            start = time.perf_counter()
            status, answer = await connection.request(method, path, body, headers)
            if n >= warmup:
                sample.latencies.append(time.perf_counter() - start)
                sample.bodies.append(answer)
                sample.failures += status >= 300
    finally:
        connection.close()
    return sample


async def concurrent(port: int, requests: Callable[[int], Request], clients: int, seconds: float) -> Sample:
    """``clients`` connections, each sending its next request as soon as the last is answered."""
    sample, counter = Sample(), iter(range(10**9))
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        connection = Connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                method, path, body, headers = requests(next(counter))
                start = time.perf_counter()
                try:
                    status, answer = await connection.request(method, path, body, headers)
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    sample.failures += 1
                    sample.statuses[type(error).__name__] = sample.statuses.get(type(error).__name__, 0) + 1
                    connection.close()
                    continue
                sample.latencies.append(time.perf_counter() - start)
                if status >= 300:
                    sample.failures += 1
                    sample.statuses[str(status)] = sample.statuses.get(str(status), 0) + 1
                if method == "POST" and status < 300:
                    sample.bodies.append(answer)
        finally:
            connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    sample.seconds = time.perf_counter() - began
    return sample


def multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "reelaybenchboundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


def ids_of(bodies: list[bytes]) -> list[str]:
    return [str(json.loads(body)["id"]) for body in bodies]


@dataclass
class Figures:
    name: str
    started_s: float
    start_cpu_s: float
    upstream: dict[str, Sample]
    latency: dict[str, Sample]
    create: Sample
    retrieve: Sample
    rss_bytes: int
    processes: list[tuple[int, int, str]]

    def added(self, op: str, q: float) -> float:
        return self.latency[op].p(q) - self.upstream[op].p(q)


async def wait_completed(port: int, video_id: str, headers: tuple[tuple[str, str], ...], timeout: float = 120) -> None:
    connection = Connection("127.0.0.1", port)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            _, body = await connection.request("GET", f"/v1/videos/{video_id}", b"", headers)
            status = json.loads(body).get("status")
            if status == "completed":
                return
            if status == "failed":
                raise SystemExit(f"video {video_id} failed: {body[:500]!r}")
            await asyncio.sleep(0.2)
    finally:
        connection.close()
    raise SystemExit(f"video {video_id} did not complete within {timeout:.0f} s")


async def measure(server: Server, upstream_port: int, model: str, args: argparse.Namespace) -> Figures:
    """Every figure for one gateway, the bare upstream's sequential figures taken just before."""
    auth = (("Authorization", f"Bearer {UPSTREAM_KEY}"),)
    up_body, up_type = multipart({"model": "sora-2", "prompt": "a quiet harbour at dawn", "seconds": "4"})
    up_create: Request = ("POST", "/v1/videos", up_body, (*auth, ("Content-Type", up_type)))
    up_ids = ids_of((await sequential(upstream_port, lambda n: up_create, 5, warmup=0)).bodies)
    await asyncio.sleep(args.upstream_seconds + 0.1)  # so content is ready
    upstream = {
        "create": await sequential(upstream_port, lambda n: up_create, args.requests),
        "retrieve": await sequential(
            upstream_port, lambda n: ("GET", f"/v1/videos/{up_ids[n % 5]}", b"", auth), args.requests
        ),
        "content": await sequential(
            upstream_port, lambda n: ("GET", f"/v1/videos/{up_ids[n % 5]}/content", b"", auth), args.requests
        ),
    }

    port, body = server.port, json.dumps({"model": model, "prompt": "a quiet harbour at dawn", "seconds": "4"}).encode()
    create: Request = ("POST", "/v1/videos", body, JSON_HEADERS)
    first = ids_of((await sequential(port, lambda n: create, 1, warmup=0)).bodies)[0]
    await wait_completed(port, first, GATEWAY_AUTH)
    latency = {"create": await sequential(port, lambda n: create, args.requests)}
    created = ids_of(latency["create"].bodies)
    latency["retrieve"] = await sequential(
        port, lambda n: ("GET", f"/v1/videos/{created[n % len(created)]}", b"", GATEWAY_AUTH), args.requests
    )
    latency["content"] = await sequential(
        port, lambda n: ("GET", f"/v1/videos/{first}/content", b"", GATEWAY_AUTH), args.requests
    )
    many = await concurrent(port, lambda n: create, args.clients, args.seconds)
    pool = ids_of(many.bodies) or created
    reads = await concurrent(
        port, lambda n: ("GET", f"/v1/videos/{pool[n % len(pool)]}", b"", GATEWAY_AUTH), args.clients, args.seconds
    )
    return Figures(
        server.name,
        server.started_s,
        server.start_cpu_s,
        upstream,
        latency,
        many,
        reads,
        tree_rss_bytes(server.popen.pid),
        tree_processes(server.popen.pid),
    )


# -- the two gateways ------------------------------------------------------------------------------


def run_litellm(root: Path, upstream: str, args: argparse.Namespace) -> Figures:
    executable = ensure_litellm()
    config = root / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: sora-2\n    litellm_params:\n      model: openai/sora-2\n"
        f"      api_base: {upstream}/v1\n      api_key: {UPSTREAM_KEY}\n"
        "litellm_settings:\n  telemetry: false\n"
    )
    env = base_env() | {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_MASTER_KEY": MASTER_KEY,
    }
    port = free_port()
    server = launch(
        "LiteLLM",
        [str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        env,
        port,
        "/health/liveliness",
        root / "litellm.log",
    )
    try:
        return asyncio.run(measure(server, int(upstream.rsplit(":", 1)[1]), "sora-2", args))
    finally:
        server.stop()


def run_reelay(root: Path, upstream: str, args: argparse.Namespace) -> Figures:
    env = base_env() | {
        "REELAY_OPENAI_COMPATIBLE_API_KEY": UPSTREAM_KEY,
        "REELAY_OPENAI_COMPATIBLE_BASE_URL": upstream,
    }
    port = free_port()
    reelay = args.reelay or shutil.which("reelay") or str(Path(sys.executable).with_name("reelay"))
    server = launch(
        "Reelay",
        [reelay, "serve", "--port", str(port), "--data-dir", str(root / "reelay-data")],
        env,
        port,
        "/healthz",
        root / "reelay.log",
    )
    try:
        return asyncio.run(measure(server, int(upstream.rsplit(":", 1)[1]), "wan2.2-t2v", args))
    finally:
        server.stop()


# -- report ----------------------------------------------------------------------------------------


def ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.1f}×" if ours > 0 and theirs > 0 else "n/a"


def report(litellm: Figures, reelay: Figures, clients: int) -> None:
    print(f"\n| figure | {litellm.name} | {reelay.name} | Reelay ahead by |\n|---|---|---|---|")
    for op in ("create", "retrieve", "content"):
        for q, label in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
            theirs, ours = litellm.added(op, q), reelay.added(op, q)
            print(f"| added {label}, {op} | {theirs:+.1f} ms | {ours:+.1f} ms | {ratio(theirs, ours)} |")
    for label, attr in (("create/s", "create"), ("retrieve/s", "retrieve")):
        theirs, ours = getattr(litellm, attr), getattr(reelay, attr)
        print(
            f"| {label} at {clients} concurrent | {theirs.rate:.0f} (p99 {theirs.p(0.99):.0f} ms) "
            f"| {ours.rate:.0f} (p99 {ours.p(0.99):.0f} ms) | {ratio(ours.rate, theirs.rate)} |"
        )
    mib = 1024 * 1024
    print(
        f"| process tree RSS after the run | {litellm.rss_bytes / mib:.0f} MiB | {reelay.rss_bytes / mib:.0f} MiB "
        f"| {ratio(litellm.rss_bytes, reelay.rss_bytes)} |"
    )
    print(
        f"| start-up to listening | {litellm.started_s:.2f} s | {reelay.started_s:.2f} s "
        f"| {ratio(litellm.started_s, reelay.started_s)} |"
    )
    print(
        f"| CPU time spent starting | {litellm.start_cpu_s:.2f} s | {reelay.start_cpu_s:.2f} s "
        f"| {ratio(litellm.start_cpu_s, reelay.start_cpu_s)} |"
    )
    print("\nbare upstream, sequential p50 / p99 (ms), measured just before each gateway:")
    for figures in (litellm, reelay):
        cells = ", ".join(f"{op} {s.p(0.5):.2f} / {s.p(0.99):.2f}" for op, s in figures.upstream.items())
        print(f"  before {figures.name}: {cells}")
    print("\nresident memory by process after the run:")
    for figures in (litellm, reelay):
        for _, rss, command in figures.processes:
            print(f"  {figures.name:8} {rss / 2**20:6.1f} MiB  {command[:90]}")
    print("\nfailures (non-2xx or transport errors):")
    for figures in (litellm, reelay):
        seq = sum(s.failures for s in figures.latency.values())
        print(
            f"  {figures.name}: sequential {seq}, create load {figures.create.failures} {figures.create.statuses}, "
            f"retrieve load {figures.retrieve.failures} {figures.retrieve.statuses}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per call (after 20 warm-up)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients in the throughput phases")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each throughput phase")
    parser.add_argument("--upstream-seconds", type=float, default=2.0, help="how long the fake takes per video")
    parser.add_argument("--reelay", help="the reelay executable to measure (another checkout's, for before/after)")
    args = parser.parse_args()
    ensure_litellm()
    print("Reelay vs LiteLLM proxy, same loopback OpenAI-Videos upstream")
    print(f"date     {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(f"machine  nproc={len(os.sched_getaffinity(0))}  cpu={cpu_model()}  python {platform.python_version()}")
    print(
        f"load     sequential {args.requests} per call on one keep-alive connection; "
        f"{args.clients} concurrent clients × {args.seconds:g} s for create, then retrieve\n"
    )
    with tempfile.TemporaryDirectory(prefix="reelay-vs-litellm-") as folder:
        root = Path(folder)
        video = make_video(root / "upstream.mp4", seconds=2.0, width=640, height=360, audio=True)
        port = free_port()
        fake_args = [sys.executable, "-m", "tests.scale.fake_videos", "--port", str(port), "--video", str(video)]
        fake_args += ["--min-latency", str(args.upstream_seconds), "--max-latency", str(args.upstream_seconds)]
        fake_args += ["--poll-after-ms", "500", "--api-key", UPSTREAM_KEY]
        fake = launch("upstream", fake_args, base_env(), port, "/_stats", root / "fake.log")
        try:
            upstream = f"http://127.0.0.1:{port}"
            litellm = run_litellm(root, upstream, args)
            print(f"LiteLLM {LITELLM_VERSION} measured; started in {litellm.started_s:.2f} s", flush=True)
            reelay = run_reelay(root, upstream, args)
            print(f"Reelay measured; started in {reelay.started_s:.2f} s", flush=True)
        finally:
            fake.stop()
        report(litellm, reelay, args.clients)
    return 0


if __name__ == "__main__":
    sys.exit(main())
