"""A loopback fake of an OpenAI Videos API server with real latency, run as its own process.

POST /v1/videos → a video ``queued`` (counted: ``submissions``; a repeated ``Idempotency-Key``
answers the first video again and counts as a ``replay``, as Reelay does); GET /v1/videos/{id} →
``in_progress`` until its latency (uniform in [min, max] seconds) has passed, then ``completed``;
GET /v1/videos/{id}/content → a small MP4. GET /_stats reports what it saw. A process of its own
keeps its event loop away from the test's (and the benchmark's) GIL.

    python -m tests.scale.fake_videos --port 8091 --video out.mp4 --min-latency 1 --max-latency 3
"""

from __future__ import annotations

import argparse
import heapq
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class FakeVideos:
    video: bytes
    min_latency: float
    max_latency: float
    poll_after_ms: int
    api_key: str
    ready_at: dict[str, float] = field(default_factory=dict)
    submissions: int = 0
    submitted: dict[str, list[float]] = field(default_factory=dict)  # prompt -> submission times
    polls: int = 0
    fetched: set[str] = field(default_factory=set)
    by_key: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> video id
    replays: int = 0
    _generating: list[float] = field(default_factory=list)  # a heap of ready times still ahead
    peak_generating: int = 0  # the most generations running at once, as a provider would count them

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/videos", self.create, methods=["POST"]),
                Route("/v1/videos/{video_id}", self.retrieve, methods=["GET"]),
                Route("/v1/videos/{video_id}", self.delete, methods=["DELETE"]),
                Route("/v1/videos/{video_id}/content", self.content, methods=["GET"]),
                Route("/_stats", self.stats, methods=["GET"]),
            ]
        )

    def _denied(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": {"message": "Invalid API key"}}, status_code=401)
        return None

    def _body(self, video_id: str, status: str, progress: int) -> dict[str, Any]:
        return {"id": video_id, "object": "video", "status": status, "progress": progress, "model": "fake"}

    async def create(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        form = await request.form()
        key = request.headers.get("idempotency-key")
        if key is not None and key in self.by_key:
            self.replays += 1
            return JSONResponse(self._body(self.by_key[key], "queued", 0))
        self.submissions += 1
        self.submitted.setdefault(str(form.get("prompt")), []).append(time.time())
        video_id = f"video_fake_{uuid.uuid4().hex}"
        self.ready_at[video_id] = time.time() + random.uniform(self.min_latency, self.max_latency)
        heapq.heappush(self._generating, self.ready_at[video_id])
        while self._generating and self._generating[0] <= time.time():
            heapq.heappop(self._generating)
        self.peak_generating = max(self.peak_generating, len(self._generating))
        if key is not None:
            self.by_key[key] = video_id
        return JSONResponse(self._body(video_id, "queued", 0))

    async def retrieve(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        video_id = request.path_params["video_id"]
        ready = self.ready_at.get(video_id)
        if ready is None:
            return JSONResponse({"error": {"message": "no such video"}}, status_code=404)
        self.polls += 1
        headers = {"openai-poll-after-ms": str(self.poll_after_ms)}
        left = ready - time.time()
        if left > 0:
            progress = int(100 * (1 - left / max(self.max_latency, 0.001)))
            return JSONResponse(self._body(video_id, "in_progress", max(0, min(99, progress))), headers=headers)
        return JSONResponse(self._body(video_id, "completed", 100), headers=headers)

    async def content(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        video_id = request.path_params["video_id"]
        ready = self.ready_at.get(video_id)
        if ready is None or ready > time.time():
            return JSONResponse({"error": {"message": "not ready"}}, status_code=400)
        self.fetched.add(video_id)
        return Response(self.video, media_type="video/mp4")

    async def delete(self, request: Request) -> Response:
        video_id = request.path_params["video_id"]
        self.ready_at.pop(video_id, None)
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})

    async def stats(self, request: Request) -> Response:
        now = time.time()
        return JSONResponse(
            {
                "submissions": self.submissions,
                "replays": self.replays,
                "polls": self.polls,
                "fetched": len(self.fetched),
                "generating": sum(1 for ready in self.ready_at.values() if ready > now),
                "peak_generating": self.peak_generating,
                "resubmitted": {p: times for p, times in self.submitted.items() if len(times) > 1},
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--video", type=Path, required=True, help="the MP4 every job returns")
    parser.add_argument("--min-latency", type=float, default=1.0)
    parser.add_argument("--max-latency", type=float, default=3.0)
    parser.add_argument("--poll-after-ms", type=int, default=1000)
    parser.add_argument("--api-key", default="fake-key")
    args = parser.parse_args()
    fake = FakeVideos(args.video.read_bytes(), args.min_latency, args.max_latency, args.poll_after_ms, args.api_key)
    uvicorn.run(fake.app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
