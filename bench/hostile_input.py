"""The audit's hostile requests against a real ``reelay serve``, with the peak memory of its whole
process tree (server plus render processes, summed RSS sampled every 50 ms).

    python bench/hostile_input.py

Sends the 1x10000 PNG as an upload and as a data URI at once (the audit's F1), the four former causes
of 500 (F2-F5), then a normal job; prints each status and the peak tree RSS. Linux only (/proc).
"""

from __future__ import annotations

import base64
import io
import sys
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.* helpers

from tests.conftest import LiveServer, free_port, server_env, wait_until_finished

PAGE = 4096


def tree_rss(root: int) -> int:
    """Bytes of RSS of ``root`` and every descendant."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], rss[pid] = int(fields[1]), int(fields[21]) * PAGE
    members, changed = {root}, True
    while changed:
        grown = members | {pid for pid, parent in parents.items() if parent in members}
        changed, members = grown != members, grown
    return sum(rss.get(pid, 0) for pid in members)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "data", free_port(), server_env())
        server.start()
        assert server.process is not None
        peak, stop = [0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss(server.process.pid))  # type: ignore[union-attr]
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        thin = io.BytesIO()
        Image.new("RGB", (1, 10_000)).save(thin, format="PNG")
        png = thin.getvalue()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                fields = {"prompt": "slow push in", "seconds": "1", "size": "640x360"}
                upload = client.post(
                    "/v1/videos", data=fields, files={"input_reference": ("thin.png", png, "image/png")}
                )
                uri = "data:image/png;base64," + base64.b64encode(png).decode()
                data_uri = client.post("/v1/videos", json={**fields, "input_reference": {"image_url": uri}})
                print(f"1x10000 PNG ({len(png)} bytes): upload {upload.status_code}, data URI {data_uri.status_code}")
                for response in (upload, data_uri):
                    if response.status_code == 202:
                        done = wait_until_finished(client, response.json()["id"], timeout=300)
                        print(f"  {done['id']}: {done['status']}")
                label = "https://" + "a" * 64 + ".com/x.png"
                json_headers = {"content-type": "application/json"}
                attacks = {
                    "F2 long DNS label": client.post("/v1/videos", json={"prompt": "x", "webhook_url": label}),
                    "F3 deep JSON": client.post(
                        "/v1/videos", content=b"[" * 100_000 + b"]" * 100_000, headers=json_headers
                    ),
                    "F4 401-digit seconds": client.post(
                        "/v1/videos?dryRun=true",
                        content=b'{"prompt":"x","seconds":1' + b"0" * 400 + b"}",
                        headers=json_headers,
                    ),
                    "F5 5001-digit seconds": client.post(
                        "/v1/videos?dryRun=true",
                        content=b'{"prompt":"x","seconds":1' + b"0" * 5000 + b"}",
                        headers=json_headers,
                    ),
                }
                for name, response in attacks.items():
                    print(f"{name}: {response.status_code} {response.json()['error']['code']}")
                print(f"healthz: {client.get('/healthz').status_code}")
                normal = client.post("/v1/videos", json={"prompt": "a red fox", "seconds": 2, "size": "1280x720"})
                print(f"normal job: {wait_until_finished(client, normal.json()['id'], timeout=300)['status']}")
        finally:
            stop.set()
            sampler.join()
            server.stop()
        print(f"peak RSS of the server's process tree: {peak[0] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
