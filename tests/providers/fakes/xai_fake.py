"""A loopback fake of xAI's video API, as documented (see reelay.providers.xai for the pages).

Routes: POST /v1/videos/generations | /edits | /extensions → {request_id}; GET /v1/videos/{id} →
pending (with progress) → done / failed / expired; GET /files/{id}.mp4 serves the output (a real MP4).
Validation follows the docs, one rule per documented line (quoted or paraphrased beside it): Bearer
key, prompt required, duration 1-15 (10 with reference images; extensions 2-10; none on edits),
aspect_ratio and resolution enums (none on edits/extensions), image XOR reference_images (≤ 7), media
as https URLs or base64 data URIs whose declared type matches their bytes, videos as H.264/H.265/AV1
MP4s (edit input ≤ 8.7 s, extension input 2-15 s), edits and extensions on grok-imagine-video only.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.fakes.loopback import Fault, FaultPlan, Seen
from tests.providers.fakes.media_rules import data_uri_problem, decode_data_uri, mp4_codec_and_seconds

Outcome = Literal["done", "moderated", "failed", "expired", "no_url"]
ASPECT_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"}
RESOLUTIONS = {"480p", "720p"}
RESOLUTIONS_1_5 = {"480p", "720p", "1080p"}
# docs.x.ai video/editing: "The video must have the .mp4 file extension and be encoded with .mp4
# supported codecs such as H.265, H.264, AV1".
VIDEO_CODECS = {"h264", "hevc", "av1"}
# docs.x.ai video.md: "8.7 seconds for editing input videos, 2-10 seconds for extensions (input must be
# 2-15 seconds)".
MAX_EDIT_INPUT_SECONDS = 8.7
EXTEND_INPUT_SECONDS = (2.0, 15.0)


@dataclass
class FakeJob:
    operation: str
    outcome: Outcome
    pending_polls: int
    failure: dict[str, str]
    polls: int = 0


@dataclass
class XAIFake:
    """State and script of the fake; tests set ``outcome`` etc. before submitting."""

    video: bytes
    api_key: str = "test"
    outcome: Outcome = "done"
    pending_polls: int = 1
    failure: dict[str, str] = field(default_factory=lambda: {"code": "internal_error", "message": "renderer crashed"})
    output_expired: bool = False
    cost_ticks: int = 500_000_000  # usage.cost_in_usd_ticks of a done video (1 USD = 1e10 ticks): $0.05
    faults: FaultPlan = field(default_factory=FaultPlan)
    seen: list[Seen] = field(default_factory=list)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.outcome, self.pending_polls, self.output_expired = "done", 1, False
        self.cost_ticks = 500_000_000
        self.failure = {"code": "internal_error", "message": "renderer crashed"}
        self.faults.clear()
        with self._lock:
            self.seen.clear()
            self.jobs.clear()

    def fail_next(self, **kwargs: Any) -> None:
        self.faults.add(Fault(**kwargs))

    def creates(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST"]

    # -- the app ---------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/videos/generations", self._create, methods=["POST"]),
                Route("/v1/videos/edits", self._create, methods=["POST"]),
                Route("/v1/videos/extensions", self._create, methods=["POST"]),
                Route("/v1/videos/{request_id}", self._status, methods=["GET"]),
                Route("/files/{name}", self._file, methods=["GET"]),
            ]
        )

    async def _record(self, request: Request, body: Any = None) -> None:
        with self._lock:
            self.seen.append(Seen(request.method, request.url.path, dict(request.headers), body))

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    async def _create(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        await self._record(request, body)
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if not self._authorized(request):
            return _error(401, "unauthenticated", "Incorrect API key provided")
        operation = request.url.path.rsplit("/", 1)[1]
        problem = validate(operation, body)
        if problem is not None:
            status, message = problem
            return _error(status, "invalid_argument", message)
        request_id = str(uuid.uuid4())
        with self._lock:
            self.jobs[request_id] = FakeJob(operation, self.outcome, self.pending_polls, dict(self.failure))
        return JSONResponse({"request_id": request_id})

    async def _status(self, request: Request) -> Response:
        await self._record(request)
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if not self._authorized(request):
            return _error(401, "unauthenticated", "Incorrect API key provided")
        request_id = request.path_params["request_id"]
        job = self.jobs.get(request_id)
        if job is None:
            return _error(404, "not_found", f"request {request_id} not found")
        job.polls += 1
        if job.polls <= job.pending_polls:
            return JSONResponse({"status": "pending", "model": "grok-imagine-video", "progress": 40})
        return JSONResponse(self._finished(request, request_id, job))

    def _finished(self, request: Request, request_id: str, job: FakeJob) -> dict[str, Any]:
        url = f"{str(request.base_url).rstrip('/')}/files/{request_id}.mp4"
        video = {"url": url, "duration": 1, "respect_moderation": True}
        if job.outcome == "done":
            return {
                "status": "done",
                "video": video,
                "model": "grok-imagine-video",
                "progress": 100,
                "usage": {"cost_in_usd_ticks": self.cost_ticks},
            }
        if job.outcome == "moderated":
            return {"status": "done", "video": {**video, "url": "", "respect_moderation": False}, "progress": 100}
        if job.outcome == "no_url":
            return {"status": "done", "video": {"duration": 1, "respect_moderation": True}}
        if job.outcome == "expired":
            return {"status": "expired"}
        return {"status": "failed", "error": job.failure, "progress": 100}

    async def _file(self, request: Request) -> Response:
        await self._record(request)
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if self.output_expired:
            return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
        if "authorization" in request.headers:  # the CDN link must not receive the API key
            return Response("unexpected Authorization header", status_code=400)
        return Response(self.video, media_type="video/mp4")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "error": message}, status_code=status)


def validate(operation: str, body: Any) -> tuple[int, str] | None:
    """(status, message) for a request the real API would refuse, else None."""
    if not isinstance(body, dict):
        return 422, "the body must be a JSON object"
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return 422, "prompt is required"
    if "model" in body and body["model"] not in ("grok-imagine-video", "grok-imagine-video-1.5"):
        return 400, f"unknown model {body['model']!r}"
    if operation == "generations":
        return _validate_generation(body)
    # Editing and extension are documented for grok-imagine-video only (docs.x.ai editing/extension
    # pages; Vercel AI Gateway: "only grok-imagine-video extends"): 1.5 is refused here.
    if body.get("model") == "grok-imagine-video-1.5":
        return 400, f"grok-imagine-video-1.5 does not support {operation}"
    # docs.x.ai editing/extension: aspect_ratio and resolution are not supported; the output follows the input.
    if any(key in body for key in ("aspect_ratio", "resolution")):
        return 400, f"aspect_ratio and resolution are not supported for {operation}"
    problem = _validate_media(body.get("video"), "video", "video/")
    if problem is not None:
        return problem
    problem = _validate_input_video(operation, body["video"]["url"])
    if problem is not None:
        return problem
    if operation == "edits":  # docs.x.ai editing: duration is not supported; the output keeps the input's length
        return (400, "duration is not supported for edits") if "duration" in body else None
    # docs.x.ai extension: "duration … controls the length of the extended portion only", 2-10 s.
    return _validate_duration(body.get("duration", 6), 2, 10)


def _validate_input_video(operation: str, url: str) -> tuple[int, str] | None:
    """The source video's codec and length, where it arrives inline (an https URL is not fetched)."""
    decoded = decode_data_uri(url)
    if decoded is None:
        return None
    codec, seconds = mp4_codec_and_seconds(decoded[1])
    if codec not in VIDEO_CODECS:
        return 400, f"the video must be an MP4 encoded with H.264, H.265 or AV1, not {codec}"
    if operation == "edits" and seconds > MAX_EDIT_INPUT_SECONDS + 0.05:
        return 400, f"the input video is {seconds:.2f} s; edits take at most {MAX_EDIT_INPUT_SECONDS} s"
    low, high = EXTEND_INPUT_SECONDS
    if operation == "extensions" and not low - 0.05 <= seconds <= high + 0.05:
        return 400, f"the input video is {seconds:.2f} s; extensions take an input of {low:g}-{high:g} s"
    return None


def _validate_generation(body: dict[str, Any]) -> tuple[int, str] | None:
    # docs.x.ai video.md: "Maximum duration: 15 seconds for generation"; video/reference-to-video:
    # "The maximum duration allowed when using reference images is 10 seconds."
    high = 10 if "reference_images" in body else 15
    problem = _validate_duration(body.get("duration", 8), 1, high)
    if problem is not None:
        return problem
    if body.get("aspect_ratio", "16:9") not in ASPECT_RATIOS:
        return 400, f"aspect_ratio must be one of {sorted(ASPECT_RATIOS)}"
    # docs.x.ai video.md "Resolutions: 480p or 720p"; @ai-sdk/xai 3.0.121: 1.5 adds 1080p for text- and
    # image-to-video, "Reference-to-video remains capped at 720p".
    is_1_5 = body.get("model") == "grok-imagine-video-1.5" and "reference_images" not in body
    allowed = RESOLUTIONS_1_5 if is_1_5 else RESOLUTIONS
    if body.get("resolution", "480p") not in allowed:
        return 400, f"resolution must be one of {sorted(allowed)}"
    if "video" in body:
        return 400, "video is not accepted by generations; use /v1/videos/edits"
    # docs.x.ai reference-to-video: "Reference images cannot be combined with image-to-video or video editing."
    if "image" in body and "reference_images" in body:
        return 400, "image and reference_images cannot be combined"
    if "image" in body:
        return _validate_media(body["image"], "image", "image/")
    if "reference_images" in body:
        refs = body["reference_images"]
        # docs.x.ai reference-to-video: "A maximum of 7 reference images can be provided per request."
        if not isinstance(refs, list) or not 1 <= len(refs) <= 7:
            return 400, "reference_images takes 1 to 7 images"
        for ref in refs:
            problem = _validate_media(ref, "reference_images[]", "image/")
            if problem is not None:
                return problem
    return None


def _validate_duration(value: Any, low: int, high: int) -> tuple[int, str] | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return 400, f"duration must be an integer from {low} to {high}"
    return None


def _validate_media(value: Any, name: str, mime_prefix: str) -> tuple[int, str] | None:
    """docs.x.ai: images (and videos) are "a public HTTPS URL or a base64-encoded data URI"; a data URI's
    declared type must be what its bytes are, and a video must be an MP4 (editing page)."""
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        return 422, f"{name} must be an object with a url"
    url: str = value["url"]
    if url.startswith("https://"):
        return None
    kind = mime_prefix.rstrip("/")
    problem = data_uri_problem(url, kind)
    if problem is not None:
        return 400, f"{name}.url: {problem}"
    if kind == "video" and not url.startswith("data:video/mp4;"):
        return 400, f"{name} must be an MP4 (.mp4) video"
    return None
