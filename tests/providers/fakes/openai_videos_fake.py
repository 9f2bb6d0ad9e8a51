"""A loopback fake of an OpenAI Videos API server that behaves like vLLM-Omni's.

POST /v1/videos (multipart only) → video object ``queued``; GET /v1/videos/{id} → ``in_progress``
(progress) → ``completed``, or ``failed`` answered with HTTP 500 and the video object as body (as
vLLM-Omni does); GET /v1/videos/{id}/content → the MP4 (400 until completed, 404 when expired);
DELETE → ``video.deleted``. Every GET carries ``openai-poll-after-ms``.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.fakes.loopback import Fault, FaultPlan, Seen

Outcome = Literal["completed", "failed"]
_SIZE = re.compile(r"^\d+x\d+$")


@dataclass
class Upload:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class FakeVideo:
    body: dict[str, Any]
    outcome: Outcome
    pending_polls: int
    error: dict[str, str]
    polls: int = 0


@dataclass
class OpenAIVideosFake:
    video: bytes
    api_key: str = "test"
    served_model: str | None = None
    outcome: Outcome = "completed"
    pending_polls: int = 1
    error: dict[str, str] = field(default_factory=lambda: {"code": "500", "message": "CUDA out of memory"})
    poll_after_ms: int = 10
    output_expired: bool = False
    faults: FaultPlan = field(default_factory=FaultPlan)
    seen: list[Seen] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    videos: dict[str, FakeVideo] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    by_key: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> the video it created
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.served_model, self.outcome, self.pending_polls, self.output_expired = None, "completed", 1, False
        self.error = {"code": "500", "message": "CUDA out of memory"}
        self.faults.clear()
        with self._lock:
            self.seen.clear()
            self.uploads.clear()
            self.videos.clear()
            self.deleted.clear()
            self.by_key.clear()

    def fail_next(self, **kwargs: Any) -> None:
        self.faults.add(Fault(**kwargs))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/videos", self._create, methods=["POST"]),
                Route("/v1/videos/{video_id}", self._get, methods=["GET"]),
                Route("/v1/videos/{video_id}", self._delete, methods=["DELETE"]),
                Route("/v1/videos/{video_id}/content", self._content, methods=["GET"]),
            ]
        )

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    async def _gate(self, request: Request, body: Any = None) -> Response | None:
        with self._lock:
            self.seen.append(Seen(request.method, request.url.path, dict(request.headers), body))
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if not self._authorized(request):
            return _error(401, "Invalid API key")
        return None

    async def _create(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            await self._gate(request)
            return _error(400, "this server accepts multipart/form-data only")
        form = await request.form()
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        denied = await self._gate(request, fields)
        if denied is not None:
            return denied
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                self.uploads.append(Upload(key, value.filename or "", value.content_type or "", data))
        problem = self._validate(fields, form.multi_items())
        if problem is not None:
            return _error(400, problem)
        key = request.headers.get("idempotency-key")
        if key is not None and key in self.by_key:  # as Reelay does: the same key answers the same video
            return JSONResponse(self.videos[self.by_key[key]].body)
        video_id = f"video_gen_{uuid.uuid4().hex}"
        if key is not None:
            self.by_key[key] = video_id
        body = {
            "id": video_id,
            "object": "video",
            "status": "queued",
            "model": fields.get("model", "served-model"),
            "prompt": fields["prompt"],
            "size": fields.get("size", "1280x720"),
            "seconds": fields.get("seconds", "4"),
            "progress": 0,
            "created_at": int(time.time()),
            "completed_at": None,
            "expires_at": None,
            "error": None,
        }
        self.videos[video_id] = FakeVideo(body, self.outcome, self.pending_polls, dict(self.error))
        return JSONResponse(body)

    def _validate(self, fields: dict[str, str], items: list[tuple[str, Any]]) -> str | None:
        if not fields.get("prompt"):
            return "prompt is required"
        if self.served_model and fields.get("model", self.served_model) != self.served_model:
            return f"model {fields['model']!r} is not served here (serving {self.served_model!r})"
        if "seconds" in fields and not (fields["seconds"].isdigit() and int(fields["seconds"]) > 0):
            return "seconds must be a positive integer string"
        if "size" in fields and not _SIZE.match(fields["size"]):
            return "size must be WIDTHxHEIGHT"
        references = [k for k, _ in items if k in ("input_reference", "image_reference", "video_reference")]
        if len(references) > 1:
            return "send only one of input_reference, image_reference, video_reference"
        return None

    async def _get(self, request: Request) -> Response:
        denied = await self._gate(request)
        if denied is not None:
            return denied
        video = self.videos.get(request.path_params["video_id"])
        if video is None:
            return _error(404, "video not found")
        video.polls += 1
        headers = {"openai-poll-after-ms": str(self.poll_after_ms)}
        if video.polls <= video.pending_polls:
            body = {**video.body, "status": "in_progress", "progress": 50}
            return JSONResponse(body, headers=headers)
        if video.outcome == "failed":
            body = {**video.body, "status": "failed", "error": video.error}
            return JSONResponse(body, status_code=500, headers=headers)
        body = {**video.body, "status": "completed", "progress": 100, "completed_at": int(time.time())}
        video.body = body
        return JSONResponse(body, headers=headers)

    async def _content(self, request: Request) -> Response:
        denied = await self._gate(request)
        if denied is not None:
            return denied
        video = self.videos.get(request.path_params["video_id"])
        if video is None or self.output_expired:
            return _error(404, "video not found")
        if video.body["status"] != "completed":
            return _error(400, "video is not completed yet")
        return Response(self.video, media_type="video/mp4")

    async def _delete(self, request: Request) -> Response:
        denied = await self._gate(request)
        if denied is not None:
            return denied
        video_id = request.path_params["video_id"]
        if self.videos.pop(video_id, None) is None:
            return _error(404, "video not found")
        self.deleted.append(video_id)
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error", "code": str(status)}}, status_code=status
    )
