"""A loopback fake of Luma's Dream Machine API, as documented (see reelay.providers.luma for the pages).

Routes (under ``/dream-machine/v1``): ``POST /generations/video`` → 201 generation ``queued``;
``GET /generations/{id}`` → ``dreaming`` → ``completed`` (``assets.video``) | ``failed``
(``failure_reason``); ``DELETE /generations/{id}`` → 204. Auth: ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.fakes.media_rules import fetched_problem, is_hosted_url
from tests.providers.fakes.remote_fake import RemoteFake

PREFIX = "/dream-machine/v1"
FIELDS = {
    "prompt",
    "model",
    "aspect_ratio",
    "resolution",
    "duration",
    "loop",
    "keyframes",
    "callback_url",
    "concepts",
    "generation_type",
}
RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}
FAILURES = {
    "moderated": "400: prompt not allowed because advanced moderation failed",
    "failed": "400: frame0 image could not be processed",
    "transient": "Internal server error, please try again",
}


@dataclass
class LumaFake(RemoteFake):
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/files/{name}", self._file, methods=["GET"]),
                Route(f"{PREFIX}/generations/video", self._create, methods=["POST"]),
                Route(f"{PREFIX}/generations/{{gid}}", self._generation, methods=["GET", "DELETE"]),
            ]
        )

    async def _guard(self, request: Request) -> Response | None:
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"detail": "Invalid API key provided"}, status_code=401)
        return None

    async def _create(self, request: Request) -> Response:
        body = await self.record(request, json_body=True)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        problem = validate(body) or await fetch_keyframes(body)
        if problem is not None:
            return JSONResponse({"detail": problem}, status_code=400)
        gid = self.new_job(body)
        return JSONResponse(_generation(gid, "queued", body), status_code=201)

    async def _generation(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        gid = request.path_params["gid"]
        if request.method == "DELETE":
            if self.jobs.pop(gid, None) is None:
                return JSONResponse({"detail": "Generation not found"}, status_code=404)
            return Response(status_code=204)
        state = self.advance(gid)
        if state is None:
            return JSONResponse({"detail": "Generation not found"}, status_code=404)
        job, finished = state
        if not finished:
            return JSONResponse(_generation(gid, "dreaming", job.body))
        if job.outcome in FAILURES:
            return JSONResponse({**_generation(gid, "failed", job.body), "failure_reason": FAILURES[job.outcome]})
        assets = {} if job.outcome == "no_url" else {"video": self.file_url(request, gid)}
        return JSONResponse({**_generation(gid, "completed", job.body), "assets": assets})

    async def _file(self, request: Request) -> Response:
        return await self.serve_file(request)


def _generation(gid: str, state: str, body: Any) -> dict[str, Any]:
    return {
        "id": gid,
        "generation_type": "video",
        "state": state,
        "failure_reason": None,
        "created_at": "2026-01-01T00:00:00Z",
        "assets": None,
        "model": (body or {}).get("model"),
        "request": body,
    }


def validate(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "The body must be a JSON object"
    unknown = set(body) - FIELDS
    if unknown:
        return f"Extra inputs are not permitted: {sorted(unknown)}"
    if body.get("model") not in ("ray-2", "ray-flash-2"):
        return "model must be ray-2 or ray-flash-2"
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return "prompt is required"
    if body.get("aspect_ratio", "16:9") not in RATIOS:
        return f"aspect_ratio must be one of {sorted(RATIOS)}"
    if body.get("resolution", "720p") not in ("540p", "720p", "1080p", "4k"):
        return "resolution must be 540p, 720p, 1080p or 4k"
    if body.get("duration", "5s") not in ("5s", "9s"):
        return "duration must be 5s or 9s"
    keyframes = body.get("keyframes", {})
    for name, frame in keyframes.items() if isinstance(keyframes, dict) else []:
        if name not in ("frame0", "frame1") or not isinstance(frame, dict):
            return "keyframes takes frame0 and frame1"
        url = frame.get("url")
        # docs.lumalabs.ai: hosted image URLs are "currently the only way to pass an image".
        if frame.get("type") == "image" and not is_hosted_url(url):
            return f"keyframes.{name}.url must be a hosted image URL (data URIs are not accepted)"
        if frame.get("type") not in ("image", "generation"):
            return f"keyframes.{name}.type must be image or generation"
    return None


async def fetch_keyframes(body: dict[str, Any]) -> str | None:
    """Fetch each image keyframe as Luma does; an unreachable URL or a non-image is refused."""
    for name, frame in (body.get("keyframes") or {}).items():
        if frame.get("type") == "image":
            problem = await fetched_problem(frame["url"], "image")
            if problem is not None:
                return f"keyframes.{name}: {problem}"
    return None
