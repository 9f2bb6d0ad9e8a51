"""A loopback fake of Replicate's predictions API, as documented (see reelay.providers.replicate).

Routes: ``GET /v1/models/{owner}/{name}`` (``latest_version.openapi_schema``), ``…/versions/{id}``;
``POST /v1/models/{owner}/{name}/predictions`` and ``POST /v1/predictions`` (``version``) → a prediction
``starting``; ``GET /v1/predictions/{id}`` → ``processing`` → ``succeeded`` (output URL) | ``failed``
(``error`` text) | ``canceled`` | ``aborted``; ``POST /v1/predictions/{id}/cancel``; ``POST /v1/files``
(multipart ``content``) → a file with ``urls.get``. Inputs a model does not declare are refused with
422, as Replicate does. Auth: ``Authorization: Bearer <token>``. Stricter than Replicate on one point:
its input-files page says a data URI "is only recommended if the file is less than 1MB", and this fake
refuses larger ones, so an adapter that ignores the advice fails here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.fakes.remote_fake import RemoteFake, valid_media

URI = {"type": "string", "format": "uri"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "minimax/video-01": {
        "prompt": {"type": "string"},
        "prompt_optimizer": {"type": "boolean", "default": True},
        "first_frame_image": URI,
        "subject_reference": URI,
    },
    "acme/video-gen": {  # a model that declares the common fields (duration as a string enum)
        "prompt": {"type": "string"},
        "duration": {"type": "string", "enum": ["5", "10"]},
        "aspect_ratio": {"type": "string"},
        "resolution": {"type": "string"},
        "seed": {"type": "integer"},
        "start_image": URI,
        "video": URI,
    },
}
VERSION = "5aa835260ff7f40f4069c41185f72036accf99e29957bb4a3b3a911f3b6c1912"
ERRORS = {
    "moderated": "The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
    "failed": "Prediction failed: first_frame_image could not be decoded",
    "transient": "Prediction interrupted; please retry (code: PA)",
}


@dataclass
class ReplicateFake(RemoteFake):
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/files/{name}", self._file, methods=["GET"]),
                Route("/v1/models/{owner}/{name}", self._model, methods=["GET"]),
                Route("/v1/models/{owner}/{name}/versions/{version}", self._version, methods=["GET"]),
                Route("/v1/models/{owner}/{name}/predictions", self._create, methods=["POST"]),
                Route("/v1/predictions", self._create, methods=["POST"]),
                Route("/v1/predictions/{pid}", self._get, methods=["GET"]),
                Route("/v1/predictions/{pid}/cancel", self._cancel, methods=["POST"]),
                Route("/v1/files", self._upload, methods=["POST"]),
                Route("/v1/files/{fid}", self._uploaded, methods=["GET"]),
            ]
        )

    async def _upload(self, request: Request) -> Response:
        """``POST /v1/files``: replicate-python's ``files.create`` sends multipart ``content``."""
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        form = await request.form()
        content = form.get("content")
        if content is None or isinstance(content, str):
            return _problem(400, "Bad request", "content: a file is required")
        data = await content.read()
        fid = f"file_{len(self.uploads)}"
        self.uploads[fid] = (content.content_type or "application/octet-stream", data)
        url = f"{str(request.base_url).rstrip('/')}/v1/files/{fid}"
        return JSONResponse(
            {
                "id": fid,
                "name": content.filename,
                "content_type": content.content_type,
                "size": len(data),
                "etag": f"etag-{fid}",
                "checksums": {"sha256": hashlib.sha256(data).hexdigest()},
                "metadata": {},
                "created_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-01-02T00:00:00Z",
                "urls": {"get": url},
            },
            status_code=201,
        )

    async def _uploaded(self, request: Request) -> Response:
        stored = self.uploads.get(request.path_params["fid"])
        if stored is None:
            return _problem(404, "Not found", "The requested resource could not be found.")
        return Response(stored[1], media_type=stored[0])

    async def _guard(self, request: Request) -> Response | None:
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        return None

    async def _model(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        if model not in SCHEMAS:
            return _problem(404, "Not found", "The requested resource could not be found.")
        return JSONResponse(
            {
                "owner": request.path_params["owner"],
                "name": request.path_params["name"],
                "latest_version": {"id": VERSION, "openapi_schema": _schema(model)},
            }
        )

    async def _version(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        if model not in SCHEMAS or request.path_params["version"] != VERSION:
            return _problem(404, "Not found", "The requested resource could not be found.")
        return JSONResponse({"id": VERSION, "openapi_schema": _schema(model)})

    async def _create(self, request: Request) -> Response:
        body = await self.record(request, json_body=True)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        if "owner" in request.path_params:
            model = f"{request.path_params['owner']}/{request.path_params['name']}"
        else:
            version = body.get("version") if isinstance(body, dict) else None
            model = "acme/video-gen" if version == VERSION else ""
        problem = validate(SCHEMAS.get(model), body)
        if problem is not None:
            return _problem(422, "Input validation failed", problem)
        return JSONResponse(self._prediction(request, self.new_job(body), "starting", model), status_code=201)

    async def _get(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        pid = request.path_params["pid"]
        state = self.advance(pid)
        if state is None:
            return _problem(404, "Not found", "The requested resource could not be found.")
        job, finished = state
        if job.cancelled:
            return JSONResponse(self._prediction(request, pid, "canceled"))
        # lifecycle docs: "aborted: the prediction exceeded its deadline before it could start running"
        if job.outcome == "aborted":
            return JSONResponse(self._prediction(request, pid, "aborted"))
        if not finished:
            return JSONResponse(self._prediction(request, pid, "processing"))
        if job.outcome in ERRORS:
            return JSONResponse({**self._prediction(request, pid, "failed"), "error": ERRORS[job.outcome]})
        output = None if job.outcome == "no_url" else self.file_url(request, pid)
        return JSONResponse({**self._prediction(request, pid, "succeeded"), "output": output})

    async def _cancel(self, request: Request) -> Response:
        await self.record(request)
        refused = await self._guard(request)
        if refused is not None:
            return refused
        job = self.jobs.get(request.path_params["pid"])
        if job is None:
            return _problem(404, "Not found", "The requested resource could not be found.")
        job.cancelled = True
        return JSONResponse(self._prediction(request, request.path_params["pid"], "canceled"))

    @staticmethod
    def _prediction(request: Request, pid: str, status: str, model: str = "") -> dict[str, Any]:
        root = f"{str(request.base_url).rstrip('/')}/v1/predictions/{pid}"
        return {
            "id": pid,
            "model": model,
            "version": VERSION,
            "status": status,
            "output": None,
            "error": None,
            "logs": "",
            "urls": {"get": root, "cancel": f"{root}/cancel"},
            "created_at": "2026-01-01T00:00:00Z",
        }

    async def _file(self, request: Request) -> Response:
        return await self.serve_file(request)


def _schema(model: str) -> dict[str, Any]:
    return {
        "components": {"schemas": {"Input": {"type": "object", "required": ["prompt"], "properties": SCHEMAS[model]}}}
    }


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"title": title, "detail": detail, "status": status}, status_code=status)


def validate(properties: dict[str, Any] | None, body: Any) -> str | None:
    if properties is None:
        return "- version: the model or version does not exist"
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return "- input: input is required"
    given = body["input"]
    for key in given:
        if key not in properties:
            return f"- input: Additional property {key} is not allowed"
    if not isinstance(given.get("prompt"), str) or not given["prompt"]:
        return "- input: prompt is required"
    for key, rule in properties.items():
        if key in given and rule.get("format") == "uri" and not _valid_uri(given[key]):
            return f"- input.{key}: Does not match format 'uri' (or is a data URI over 1 MB, or mislabelled)"
        if key in given and "enum" in rule and given[key] not in rule["enum"]:
            return f"- input.{key}: {key} must be one of {rule['enum']}"
    return None


def _valid_uri(value: Any) -> bool:
    """A URL, or a data URI under 1 MB whose type matches its bytes (input-files page: data URIs are
    "only recommended if the file is less than 1MB")."""
    if isinstance(value, str) and value.startswith(("https://", "http://127.0.0.1:")):
        return True
    return valid_media(value, "", max_bytes=1_000_000)
