"""A loopback fake of fal's queue API, as documented (see reelay.providers.fal for the pages).

Routes: ``POST /{model_id…}`` → ``{request_id, status_url, response_url, cancel_url}`` whose URLs sit under
the app id only (``owner/app/requests/{id}``), as fal's do for sub-path models; ``GET …/status`` →
``IN_QUEUE`` → ``IN_PROGRESS`` → ``COMPLETED``; ``GET …/requests/{id}`` → the output, or a 422 typed model
error; ``PUT …/cancel`` → 202 while queued, else 400. Auth: ``Authorization: Key <key>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.fakes.remote_fake import RemoteFake, valid_media

RATIOS = {"16:9", "9:16", "1:1"}
RESOLUTIONS = {"480p", "720p", "1080p"}
# The inputs each model's schema declares (fal model pages / llms.txt). Kling 2.1 Master text-to-video:
# prompt, duration "5"|"10", aspect_ratio, negative_prompt, cfg_scale; image-to-video: prompt, image_url,
# duration, negative_prompt, cfg_scale. Wan 2.5 adds resolution, seed and (t2v) aspect_ratio. fal
# validates inputs against the schema, so this fake refuses a field the model does not declare.
DECLARED: dict[str, set[str]] = {
    "fal-ai/kling-video/v2.1/master/text-to-video": {
        "prompt",
        "duration",
        "aspect_ratio",
        "negative_prompt",
        "cfg_scale",
    },
    "fal-ai/kling-video/v2.1/master/image-to-video": {
        "prompt",
        "image_url",
        "duration",
        "negative_prompt",
        "cfg_scale",
    },
    "fal-ai/wan-25-preview/text-to-video": {
        "prompt",
        "duration",
        "aspect_ratio",
        "resolution",
        "seed",
        "negative_prompt",
        "enable_prompt_expansion",
        "audio_url",
    },
    "fal-ai/wan-25-preview/image-to-video": {
        "prompt",
        "image_url",
        "duration",
        "resolution",
        "seed",
        "negative_prompt",
        "enable_prompt_expansion",
        "audio_url",
    },
}


@dataclass
class FalFake(RemoteFake):
    def app(self) -> Starlette:
        base = "/{owner}/{app}/requests/{rid}"
        return Starlette(
            routes=[
                Route("/files/{name}", self._file, methods=["GET"]),
                Route(base + "/status", self._status, methods=["GET"]),
                Route(base + "/cancel", self._cancel, methods=["PUT"]),
                Route(base, self._result, methods=["GET"]),
                Route("/{model:path}", self._submit, methods=["POST"]),
            ]
        )

    async def _guard(self, request: Request) -> Response | None:
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if request.headers.get("authorization") != f"Key {self.api_key}":
            return JSONResponse({"detail": "Invalid key"}, status_code=401)
        return None

    async def _submit(self, request: Request) -> Response:
        body = await self.record(request, json_body=True)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        model = request.path_params["model"]
        problem = validate(model, body)
        if problem is not None:
            return _detail(problem[0], problem[1], "value_error")
        request_id = self.new_job(body)
        root = f"{str(request.base_url).rstrip('/')}/{'/'.join(model.split('/')[:2])}/requests/{request_id}"
        return JSONResponse(
            {
                "request_id": request_id,
                "response_url": root,
                "status_url": f"{root}/status",
                "cancel_url": f"{root}/cancel",
                "queue_position": 0,
            }
        )

    async def _status(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        state = self.advance(request.path_params["rid"])
        if state is None:
            return JSONResponse({"detail": "Request not found"}, status_code=404)
        job, finished = state
        if job.cancelled:
            return JSONResponse({"status": "COMPLETED", "error": "Request was cancelled", "error_type": "cancelled"})
        if job.polls == 1 and not finished:
            return JSONResponse({"status": "IN_QUEUE", "queue_position": 0})
        return JSONResponse({"status": "COMPLETED" if finished else "IN_PROGRESS", "logs": None})

    async def _result(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        job = self.jobs.get(request.path_params["rid"])
        if job is None or job.polls <= job.pending_polls:
            return JSONResponse({"detail": "Request is still in progress"}, status_code=400)
        if job.outcome == "moderated":
            return _detail(
                ["body", "prompt"], "The content was flagged by a content checker.", "content_policy_violation"
            )
        if job.outcome == "failed":
            return _detail(["body", "image_url"], "The image could not be decoded.", "image_load_error")
        if job.outcome == "transient":
            return JSONResponse({"detail": "Internal server error"}, status_code=500)
        if job.outcome == "no_url":
            return JSONResponse({"seed": 42})
        url = self.file_url(request, request.path_params["rid"])
        return JSONResponse(
            {
                "video": {
                    "url": url,
                    "content_type": "video/mp4",
                    "file_name": "output.mp4",
                    "file_size": len(self.video),
                },
                "seed": 42,
            }
        )

    async def _cancel(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        job = self.jobs.get(request.path_params["rid"])
        if job is None:
            return JSONResponse({"detail": "Request not found"}, status_code=404)
        if job.polls > job.pending_polls:
            return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
        job.cancelled = True
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    async def _file(self, request: Request) -> Response:
        return await self.serve_file(request)


def _detail(loc: list[str], msg: str, kind: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": loc, "msg": msg, "type": kind, "url": f"https://docs.fal.ai/errors#{kind}"}]},
        status_code=422,
    )


def validate(model: str, body: Any) -> tuple[list[str], str] | None:
    """(loc, message) for an input fal's video models refuse, else None."""
    if not isinstance(body, dict):
        return ["body"], "the body must be a JSON object"
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return ["body", "prompt"], "field required"
    undeclared = sorted(set(body) - DECLARED[model]) if model in DECLARED else []
    if undeclared:
        return ["body", undeclared[0]], f"extra fields not permitted: {undeclared}"
    if "duration" in body and body["duration"] not in ("5", "10"):
        return ["body", "duration"], "value is not a valid enumeration member; permitted: '5', '10'"
    if body.get("aspect_ratio", "16:9") not in RATIOS:
        return ["body", "aspect_ratio"], f"permitted: {sorted(RATIOS)}"
    if body.get("resolution", "1080p") not in RESOLUTIONS:
        return ["body", "resolution"], f"permitted: {sorted(RESOLUTIONS)}"
    # fal: image_url "Must be publicly accessible or base64 data URI"; required on image-to-video.
    if model.endswith("/image-to-video") and not valid_media(body.get("image_url"), "image/"):
        return ["body", "image_url"], "an https URL or a base64 data URI (of the type its bytes are) is required"
    if model.endswith("/text-to-video") and "image_url" in body:
        return ["body", "image_url"], "text-to-video takes no image; use the image-to-video endpoint"
    if "video_url" in body and not valid_media(body["video_url"], "video/"):
        return ["body", "video_url"], "an https URL or a base64 data URI of a video is required"
    return None
