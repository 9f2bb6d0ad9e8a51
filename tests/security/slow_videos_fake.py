"""A slow loopback fake of the OpenAI Videos API for the crash test: every job takes 1-3 s.

Held (``held=True``), no job finishes until ``release()``; each job's time starts then. A test can
so crash Reelay while every job waits upstream without making the jobs long.

POST /v1/videos → ``{"id", "status": "queued"}`` (each POST counted); GET /v1/videos/{id} →
``in_progress`` with progress until the job's latency has passed, then ``completed``;
GET /v1/videos/{id}/content → the MP4. It lives in the test process, so it outlives a SIGKILLed
Reelay and keeps counting across the restart.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SlowVideosFake:
    video: bytes
    min_seconds: float = 1.0
    max_seconds: float = 3.0
    submissions: int = 0
    last_submission: float = 0.0
    in_flight_posts: int = 0
    jobs: dict[str, tuple[float, float]] = field(default_factory=dict)  # id → (created, latency)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    random: random.Random = field(default_factory=lambda: random.Random(4))
    held: bool = False

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def quiet_for(self, seconds: float) -> bool:
        """No submission in flight and none for ``seconds``: every accepted id has reached Reelay."""
        with self.lock:
            return self.in_flight_posts == 0 and time.monotonic() - self.last_submission > seconds

    def release(self) -> None:
        """Let held jobs run: each takes its latency from now."""
        with self.lock:
            if not self.held:
                return
            now = time.monotonic()
            self.jobs = {video_id: (now, latency) for video_id, (_, latency) in self.jobs.items()}
            self.held = False

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def create(self) -> dict[str, Any]:
        with self.lock:
            self.submissions += 1
            video_id = f"vid_{self.submissions:03d}"
            self.jobs[video_id] = (time.monotonic(), self.random.uniform(self.min_seconds, self.max_seconds))
        return {"id": video_id, "object": "video", "status": "queued", "progress": 0}

    def status(self, video_id: str) -> dict[str, Any] | None:
        with self.lock:
            job = self.jobs.get(video_id)
            held = self.held
        if job is None:
            return None
        if held:
            return {"id": video_id, "object": "video", "status": "in_progress", "progress": 0}
        done = (time.monotonic() - job[0]) / job[1]
        if done >= 1:
            return {"id": video_id, "object": "video", "status": "completed", "progress": 100}
        return {"id": video_id, "object": "video", "status": "in_progress", "progress": int(done * 100)}


_VIDEO = re.compile(r"^/v1/videos/([A-Za-z0-9_]+)(/content)?$")


def _handler(fake: SlowVideosFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("openai-poll-after-ms", "200")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            with fake.lock:
                fake.in_flight_posts += 1
            try:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/videos":
                    self._send(404, b'{"error": {"message": "no route"}}')
                    return
                self._send(200, json.dumps(fake.create()).encode())
            finally:
                with fake.lock:
                    fake.in_flight_posts -= 1
                    fake.last_submission = time.monotonic()

        def do_GET(self) -> None:
            match = _VIDEO.match(self.path)
            state = fake.status(match.group(1)) if match else None
            if match is None or state is None:
                self._send(404, b'{"error": {"message": "no such video"}}')
            elif match.group(2):
                if state["status"] != "completed":
                    self._send(400, b'{"error": {"message": "not ready"}}')
                else:
                    self._send(200, fake.video, "video/mp4")
            else:
                self._send(200, json.dumps(state).encode())

    return Handler
