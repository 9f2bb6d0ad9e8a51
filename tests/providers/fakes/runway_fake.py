"""A loopback fake of Runway's developer API, as documented (see reelay.providers.runway for the pages).

Routes: ``POST /v1/image_to_video`` | ``/v1/text_to_video`` | ``/v1/video_to_video`` → ``{id}``;
``GET /v1/tasks/{id}`` → ``PENDING`` → ``RUNNING`` (``progress``) → ``SUCCEEDED`` (``output: [url]``) |
``FAILED`` (``failure``, ``failureCode``); ``DELETE /v1/tasks/{id}`` → 204. Every call needs
``Authorization: Bearer`` and ``X-Runway-Version: 2024-11-06``; unknown body fields are refused.
Uploads, as runwayml's ``uploads.create_ephemeral`` uses them: ``POST /v1/uploads`` ``{filename, type:
"ephemeral"}`` → ``{uploadUrl, fields, runwayUri}``; ``POST {uploadUrl}`` (a presigned multipart POST:
``fields`` plus ``file``, no API key) → 204; ``runway://`` URIs are then accepted as ``promptImage``.
Images: a data URI up to 5 MB whose type matches its bytes, an HTTPS URL (fetched), or an uploaded
``runway://`` URI of an image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.fakes.media_rules import fetched_problem, is_hosted_url, sniff
from tests.providers.fakes.remote_fake import RemoteFake, valid_media

GEN4_RATIOS = {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}
ROUTES: dict[str, dict[str, Any]] = {
    "image_to_video": {
        "models": {"gen4_turbo", "gen4.5"},
        "fields": {"model", "promptImage", "promptText", "ratio", "duration", "seed", "contentModeration"},
    },
    "text_to_video": {"models": {"gen4.5", "veo3.1"}, "fields": {"model", "promptText", "ratio", "duration", "seed"}},
    "video_to_video": {
        "models": {"gen4_aleph", "aleph2"},
        "fields": {"model", "videoUri", "promptText", "seed", "references", "keyframes"},
    },
}
FAILURES = {
    "moderated": ("Your prompt was flagged by our content moderation system.", "SAFETY.INPUT.TEXT"),
    "failed": ("The input image could not be read.", "ASSET.INVALID"),
    "transient": ("An unexpected error occurred.", "INTERNAL.BAD_OUTPUT.CODE01"),
}


@dataclass
class RunwayFake(RemoteFake):
    uploads: dict[str, bytes | None] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/files/{name}", self._file, methods=["GET"]),
                Route("/v1/tasks/{tid}", self._task, methods=["GET", "DELETE"]),
                Route("/v1/uploads", self._start_upload, methods=["POST"]),
                Route("/upload-bucket/{uid}", self._receive_upload, methods=["POST"]),
                Route("/v1/{route}", self._create, methods=["POST"]),
            ]
        )

    async def _guard(self, request: Request) -> Response | None:
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": "Incorrect API key."}, status_code=401)
        if request.headers.get("x-runway-version") != "2024-11-06":
            return JSONResponse({"error": "X-Runway-Version header is missing or invalid."}, status_code=400)
        return None

    async def _start_upload(self, request: Request) -> Response:
        body = await self.record(request, json_body=True)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        if not isinstance(body, dict) or not body.get("filename") or body.get("type") != "ephemeral":
            return JSONResponse({"error": "filename and type: ephemeral are required"}, status_code=400)
        uid = f"u{len(self.uploads)}"
        self.uploads[uid] = None
        return JSONResponse(
            {
                "uploadUrl": f"{str(request.base_url).rstrip('/')}/upload-bucket/{uid}",
                "fields": {"key": f"uploads/{uid}/{body['filename']}", "policy": "p0", "x-amz-signature": "s0"},
                "runwayUri": f"runway://uploads/{uid}",
            }
        )

    async def _receive_upload(self, request: Request) -> Response:
        """The presigned bucket: the form fields must come back unchanged, with the file, no API key."""
        await self.record(request)
        uid = request.path_params["uid"]
        form = await request.form()
        upload = form.get("file")
        if uid not in self.uploads or form.get("policy") != "p0" or upload is None or isinstance(upload, str):
            return Response("<Error><Code>AccessDenied</Code></Error>", status_code=403)
        if "authorization" in request.headers:
            return Response("<Error><Code>InvalidArgument</Code></Error>", status_code=400)
        self.uploads[uid] = await upload.read()
        return Response(status_code=204)

    async def _create(self, request: Request) -> Response:
        body = await self.record(request, json_body=True)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        route = ROUTES.get(request.path_params["route"])
        if route is None:
            return JSONResponse({"error": "Not found"}, status_code=404)
        problem = validate(request.path_params["route"], route, body)
        if problem is None and is_hosted_url(body.get("promptImage")):
            problem = await fetched_problem(body["promptImage"], "image")  # Runway fetches a hosted image
        if problem is None and str(body.get("promptImage")).startswith("runway://"):
            data = self.uploads.get(body["promptImage"].rsplit("/", 1)[1])
            problem = None if data and sniff(data).startswith("image/") else "promptImage: unknown or empty upload"
        if problem is not None:
            return JSONResponse({"error": problem}, status_code=400)
        return JSONResponse({"id": self.new_job(body)})

    async def _task(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        tid = request.path_params["tid"]
        if request.method == "DELETE":
            job = self.jobs.get(tid)
            if job is None:
                return JSONResponse({"error": "Task not found"}, status_code=404)
            job.cancelled = True
            return Response(status_code=204)
        state = self.advance(tid)
        if state is None:
            return JSONResponse({"error": "Task not found"}, status_code=404)
        job, finished = state
        base = {"id": tid, "createdAt": "2026-01-01T00:00:00.000Z"}
        if job.cancelled:
            return JSONResponse({**base, "status": "CANCELLED"})
        if not finished:
            status = {"status": "PENDING"} if job.polls == 1 else {"status": "RUNNING", "progress": 0.5}
            return JSONResponse({**base, **status})
        if job.outcome in FAILURES:
            failure, code = FAILURES[job.outcome]
            return JSONResponse({**base, "status": "FAILED", "failure": failure, "failureCode": code})
        output = [] if job.outcome == "no_url" else [self.file_url(request, tid)]
        return JSONResponse({**base, "status": "SUCCEEDED", "output": output})

    async def _file(self, request: Request) -> Response:
        return await self.serve_file(request)


def validate(name: str, route: dict[str, Any], body: Any) -> str | None:
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    unknown = set(body) - route["fields"]
    if unknown:
        return f"Unrecognized keys: {sorted(unknown)}"
    if body.get("model") not in route["models"]:
        return f"Invalid model for {name}: {body.get('model')!r}"
    prompt = body.get("promptText")
    if prompt is not None and (not isinstance(prompt, str) or not 1 <= len(prompt) <= 1000):
        return "promptText must be 1-1000 characters."
    # Runway's input guide (runwayml/skills rw-integrate-uploads): data URIs up to 5 MB for images.
    image = body.get("promptImage")
    uploaded = isinstance(image, str) and image.startswith("runway://")
    if name == "image_to_video" and not (
        uploaded or is_hosted_url(image) or valid_media(image, "image/", max_bytes=5_000_000)
    ):
        return "promptImage must be an HTTPS URL or a data URI of an image (at most 5 MB) whose type matches it."
    if name == "video_to_video" and not valid_media(body.get("videoUri"), "video/"):
        return "videoUri must be an HTTPS URL or a data URI of a video."
    if name != "video_to_video":
        if body.get("ratio") not in GEN4_RATIOS:
            return f"ratio must be one of {sorted(GEN4_RATIOS)}"
        if body.get("duration", 5) not in (5, 10):
            return "duration must be 5 or 10."
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 4294967295:
        return "seed must be an integer from 0 to 4294967295."
    return None
