"""Start-up time and memory of a gateway serving remote models: `python bench/startup.py`.

Starts ``reelay serve`` (the OpenAI-compatible provider configured, pointing at a closed loopback
port: nothing is called) ``--runs`` times on a data directory already migrated, as a restart finds
it, and times each launch to the first answer from ``/healthz``. Then prints the resident memory of
each process in the tree of the last one, idle, and after ``--creates`` creates and as many retrieves
(the jobs queue for the unreachable upstream; nothing renders). ``--upstream`` instead puts the fake
OpenAI-compatible upstream (``tests/scale/fake_videos.py``, a real MP4, done 2 s after each create)
behind it and waits until every job has completed, so each video was fetched and post-processed
in the media process (a probe; the poster and spritesheet wait for a client to ask), as under
``bench/vs_litellm.py``'s load. ``--settle S`` shows the tree once more S seconds later: past
``REELAY_PROCESS_IDLE_SECONDS`` (60) the media process has exited. ``--python`` runs another
checkout's interpreter, for before/after figures. It reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from machine import cpu_model  # bench/machine.py (scripts run from bench/)
from procs import ROOT, Server, base_env, free_port, launch, tree_processes

sys.path.insert(0, str(ROOT))  # tests.* helpers: the MP4 the fake upstream serves
from tests.media_helpers import make_video

UPSTREAM_KEY = "sk-fake-upstream"


def post_json(url: str, body: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return dict(json.loads(answer.read()))


def show_tree(label: str, pid: int) -> None:
    processes = tree_processes(pid)
    total = sum(rss for _, rss, _ in processes)
    print(f"\n{label}: process tree {total / 2**20:.0f} MiB")
    for child, rss, command in processes:
        print(f"  {child:>7}  {rss / 2**20:6.1f} MiB  {command[:110]}")


def start_upstream(root: Path) -> Server:
    video = make_video(root / "upstream.mp4", seconds=2.0, width=640, height=360, audio=True)
    port = free_port()
    args = [sys.executable, "-m", "tests.scale.fake_videos", "--port", str(port), "--video", str(video)]
    args += ["--min-latency", "2", "--max-latency", "2", "--poll-after-ms", "500", "--api-key", UPSTREAM_KEY]
    return launch("upstream", args, base_env(), port, "/_stats", root / "fake.log")


def wait_completed(base: str, ids: list[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    for video_id in ids:
        while True:
            with urllib.request.urlopen(f"{base}/{video_id}", timeout=30) as answer:
                status = json.loads(answer.read())["status"]
            if status == "completed":
                break
            if status == "failed" or time.monotonic() > deadline:
                raise SystemExit(f"video {video_id} ended {status!r}")
            time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--creates", type=int, default=50)
    parser.add_argument("--python", default=sys.executable, help="the interpreter whose reelay to start")
    parser.add_argument("--upstream", action="store_true", help="a fake upstream: every job completes and is collected")
    parser.add_argument("--settle", type=float, default=0.0, help="then show the tree again this many seconds later")
    args = parser.parse_args()
    reelay = str(Path(args.python).with_name("reelay"))
    env = base_env() | {
        "REELAY_OPENAI_COMPATIBLE_API_KEY": "unused",
        "REELAY_OPENAI_COMPATIBLE_BASE_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
    }
    upstream: Server | None = None
    print("Reelay start-up and memory, serving a remote model")
    print(f"date     {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(f"machine  nproc={len(os.sched_getaffinity(0))}  cpu={cpu_model()}  load {os.getloadavg()[0]:.1f}")
    print(f"reelay   {reelay}")
    with tempfile.TemporaryDirectory(prefix="reelay-startup-") as folder:
        root = Path(folder)
        if args.upstream:
            upstream = start_upstream(root)
            env["REELAY_OPENAI_COMPATIBLE_API_KEY"] = UPSTREAM_KEY
            env["REELAY_OPENAI_COMPATIBLE_BASE_URL"] = f"http://127.0.0.1:{upstream.port}"
        data = root / "data"
        env["REELAY_DATA_DIR"] = str(data)
        subprocess.run([reelay, "migrate"], env=env, check=True, capture_output=True)
        times, cpu = [], []
        for run in range(args.runs):
            port = free_port()
            command = [reelay, "serve", "--port", str(port), "--log-level", "warning"]
            server = launch("reelay", command, env, port, "/healthz", root / "serve.log")
            times.append(server.started_s)
            cpu.append(server.start_cpu_s)
            if run < args.runs - 1:
                server.stop()
        print(
            f"\nlaunch to first /healthz answer, {args.runs} starts: median {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f})\nCPU time of the process tree by then: median "
            f"{statistics.median(cpu):.2f} s (min {min(cpu):.2f}, max {max(cpu):.2f})"
        )
        try:
            show_tree("idle after start", server.popen.pid)
            base = f"http://127.0.0.1:{server.port}/v1/videos"
            ids = []
            for n in range(args.creates):
                video = post_json(base, {"model": "wan2.2-t2v", "prompt": f"start-up probe {n}", "seconds": "4"})
                ids.append(str(video["id"]))
                with urllib.request.urlopen(f"{base}/{video['id']}", timeout=30) as answer:
                    answer.read()
            show_tree(f"after {args.creates} creates and retrieves", server.popen.pid)
            if upstream is not None:
                wait_completed(base, ids)
                show_tree(f"once all {args.creates} completed (fetched, probed and stored)", server.popen.pid)
            if args.settle:
                time.sleep(args.settle)
                show_tree(f"{args.settle:g} s later", server.popen.pid)
        finally:
            server.stop()
            if upstream is not None:
                upstream.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
