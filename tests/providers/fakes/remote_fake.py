"""What the Veo, fal, Replicate, Runway and Luma fakes share: scripted outcomes, faults, the output file.

Each fake keeps the requests it saw, a queue of HTTP faults (``loopback.FaultPlan``) and an ``outcome``
for the next generations:

- ``done``: pending for ``pending_polls`` polls, then finished with a real MP4 at ``/files/{id}.mp4``;
- ``moderated``: the provider's own moderation refusal;
- ``failed``: a final, non-policy failure; ``transient``: a failure the provider calls temporary;
- ``no_url``: "finished" without an output URL (malformed success);
- ``aborted``: Replicate's "exceeded its deadline before it could start running" (Replicate fake only).

``output_expired`` makes the output URL answer 404, as an expired CDN link does.
"""

from __future__ import annotations

import base64
import binascii
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

from tests.providers.fakes.loopback import Fault, FaultPlan, LoopbackServer, Seen
from tests.providers.fakes.media_rules import data_uri_problem

Outcome = Literal["done", "moderated", "failed", "transient", "no_url", "aborted"]


@dataclass
class FakeJob:
    outcome: Outcome
    pending_polls: int
    body: Any = None
    polls: int = 0
    cancelled: bool = False


@dataclass
class RemoteFake:
    video: bytes
    api_key: str = "test"
    outcome: Outcome = "done"
    pending_polls: int = 1
    output_expired: bool = False
    faults: FaultPlan = field(default_factory=FaultPlan)
    seen: list[Seen] = field(default_factory=list)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.outcome, self.pending_polls, self.output_expired = "done", 1, False
        self.faults.clear()
        with self._lock:
            self.seen.clear()
            self.jobs.clear()

    def fail_next(self, **kwargs: Any) -> None:
        self.faults.add(Fault(**kwargs))

    def creates(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST" and not s.path.endswith("/cancel")]

    async def record(self, request: Request, *, json_body: bool = False) -> Any:
        body: Any = None
        if json_body:
            try:
                body = await request.json()
            except ValueError:
                body = None
        with self._lock:
            self.seen.append(Seen(request.method, request.url.path, dict(request.headers), body))
        return body

    def new_job(self, body: Any) -> str:
        job_id = str(uuid.uuid4())
        with self._lock:
            self.jobs[job_id] = FakeJob(self.outcome, self.pending_polls, body)
        return job_id

    def advance(self, job_id: str) -> tuple[FakeJob, bool] | None:
        """The job and whether it has finished, counting this poll; None for an unknown id."""
        job = self.jobs.get(job_id)
        if job is None:
            return None
        job.polls += 1
        return job, job.polls > job.pending_polls

    @staticmethod
    def file_url(request: Request, job_id: str) -> str:
        return f"{str(request.base_url).rstrip('/')}/files/{job_id}.mp4"

    async def serve_file(self, request: Request, *, key_header: str | None = None) -> Response:
        """The output MP4; a CDN link must not receive the API key unless ``key_header`` asks for it."""
        await self.record(request)
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if self.output_expired:
            return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
        if key_header is not None:
            if request.headers.get(key_header) != self.api_key:
                return Response("missing or wrong key", status_code=403)
        elif "authorization" in request.headers or "x-goog-api-key" in request.headers:
            return Response("unexpected credentials sent to a CDN link", status_code=400)
        return Response(self.video, media_type="video/mp4")


def valid_media(value: Any, mime_prefix: str, *, max_bytes: int | None = None) -> bool:
    """An https URL, or a base64 ``data:`` URI of the right kind whose declared type is what its bytes
    are (a PNG label on JPEG bytes is refused) and, with ``max_bytes``, no larger than that."""
    return media_problem(value, mime_prefix, max_bytes=max_bytes) is None


def media_problem(value: Any, mime_prefix: str, *, max_bytes: int | None = None) -> str | None:
    """Why ``value`` is not an acceptable https URL or data URI of ``mime_prefix`` media, else None."""
    if not isinstance(value, str):
        return "a URL or data URI string is required"
    if value.startswith("https://"):
        return None
    return data_uri_problem(value, mime_prefix.rstrip("/"), max_bytes=max_bytes)


def valid_base64(text: Any) -> bool:
    if not isinstance(text, str) or not text:
        return False
    try:
        return bool(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return False


def serve(app: Any) -> Iterator[LoopbackServer]:
    """Run ``app`` on loopback for a module's tests."""
    with LoopbackServer(app) as server:
        yield server
