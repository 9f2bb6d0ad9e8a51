"""A loopback fake of Veo on the Gemini API, as documented (see reelay.providers.veo for the pages).

Routes: ``POST /v1beta/models/{model}:predictLongRunning`` → ``{name: "models/{model}/operations/{id}"}``;
``GET /v1beta/models/{model}/operations/{id}`` → not done, then done with ``response.generateVideoResponse``
or ``error``; ``GET /v1beta/files/{id}:download`` serves the MP4 and, like Google's, wants the key.
A wrong key is HTTP 400 ``API_KEY_INVALID`` (Google's answer, not 401). Unknown ``parameters`` are refused,
as are ``seed`` and ``generateAudio`` (Vertex-only).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.fakes.media_rules import sniff
from tests.providers.fakes.remote_fake import FakeJob, RemoteFake, valid_base64

PARAMETERS = {
    "aspectRatio",
    "durationSeconds",
    "resolution",
    "negativePrompt",
    "personGeneration",
    "sampleCount",
    "enhancePrompt",
}
# Allowed durationSeconds per model; an empty set means the parameter is refused. For Veo 3 the Gemini
# API answered "durationSeconds isn't supported by this model. Please remove it" (n8n-io/n8n#17707);
# Veo 3.1 takes 4, 6 or 8 (the Gemini video page).
MODELS: dict[str, set[int]] = {
    "veo-3.0-generate-001": set(),
    "veo-3.0-fast-generate-001": set(),
    "veo-3.1-generate-preview": {4, 6, 8},
}


@dataclass
class VeoFake(RemoteFake):
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1beta/models/{model}/operations/{op}", self._operation, methods=["GET"]),
                Route("/v1beta/models/{action}", self._create, methods=["POST"]),
                Route("/v1beta/files/{name}", self._file, methods=["GET"]),
            ]
        )

    def _key_error(self, request: Request) -> Response | None:
        if request.headers.get("x-goog-api-key") == self.api_key:
            return None
        return JSONResponse(
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
                }
            },
            status_code=400,
        )

    async def _create(self, request: Request) -> Response:
        body = await self.record(request, json_body=True)
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        refused = self._key_error(request)
        if refused is not None:
            return refused
        model, _, verb = request.path_params["action"].partition(":")
        if verb != "predictLongRunning" or model not in MODELS:
            return _error(404, f"models/{model} is not found for API version v1beta", "NOT_FOUND")
        problem = validate(body, MODELS[model])
        if problem is not None:
            return _error(400, problem, "INVALID_ARGUMENT")
        return JSONResponse({"name": f"models/{model}/operations/{self.new_job(body)}"})

    async def _operation(self, request: Request) -> Response:
        await self.record(request)
        scripted = await self.faults.apply(request)
        if scripted is not None:
            return scripted
        refused = self._key_error(request)
        if refused is not None:
            return refused
        model, op = request.path_params["model"], request.path_params["op"]
        name = f"models/{model}/operations/{op}"
        state = self.advance(op)
        if state is None:
            return _error(404, f"Operation {name} not found", "NOT_FOUND")
        job, finished = state
        if not finished:
            return JSONResponse({"name": name})
        return JSONResponse({"name": name, "done": True, **self._finished(request, op, job)})

    def _finished(self, request: Request, op: str, job: FakeJob) -> dict[str, Any]:
        answer_type = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
        if job.outcome == "failed":
            return {"error": {"code": 3, "message": "The input image could not be processed."}}
        if job.outcome == "transient":
            return {"error": {"code": 13, "message": "Internal error encountered."}}
        if job.outcome == "moderated":
            reasons = ["Veo could not generate videos because the input prompt violates the usage guidelines."]
            video: dict[str, Any] = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": reasons}
        elif job.outcome == "no_url":
            video = {}
        else:
            uri = f"{str(request.base_url).rstrip('/')}/v1beta/files/{op}:download?alt=media"
            video = {"generatedSamples": [{"video": {"uri": uri}}]}
        return {"response": {"@type": answer_type, "generateVideoResponse": video}}

    async def _file(self, request: Request) -> Response:
        return await self.serve_file(request, key_header="x-goog-api-key")


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": code}}, status_code=status)


def validate(body: Any, durations: set[int]) -> str | None:
    """The message Google would answer with for a request it refuses, else None."""
    if not isinstance(body, dict) or set(body) - {"instances", "parameters"}:
        return "Invalid JSON payload received."
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        return "instances must hold exactly one instance"
    instance = instances[0]
    if not isinstance(instance.get("prompt"), str) or not instance["prompt"]:
        return "instances[0].prompt is required"
    unknown_fields = set(instance) - {"prompt", "image"}
    if unknown_fields:
        return f"Invalid JSON payload received. Unknown name in instances[0]: {sorted(unknown_fields)}"
    image = instance.get("image")
    if image is not None and (
        not isinstance(image, dict)
        or not valid_base64(image.get("bytesBase64Encoded"))
        or not str(image.get("mimeType", "")).startswith("image/")
    ):
        return "instances[0].image needs bytesBase64Encoded and an image mimeType"
    # google-genai sends the image's own mimeType; a label that is not what the bytes are is refused here.
    if image is not None and sniff(base64.b64decode(image["bytesBase64Encoded"])) != image["mimeType"]:
        return f"instances[0].image.mimeType {image['mimeType']} does not match the image bytes"
    parameters = body.get("parameters", {})
    unknown = set(parameters) - PARAMETERS
    if unknown:
        return f"Invalid JSON payload received. Unknown name {sorted(unknown)} at 'parameters'"
    if "durationSeconds" in parameters and not durations:
        return "`durationSeconds` isn't supported by this model. Please remove it and try again."
    if "durationSeconds" in parameters and parameters["durationSeconds"] not in durations:
        return f"durationSeconds must be one of {sorted(durations)}"
    if parameters.get("aspectRatio", "16:9") not in ("16:9", "9:16"):
        return "aspectRatio must be 16:9 or 9:16"
    if parameters.get("resolution", "720p") not in ("720p", "1080p"):
        return "resolution must be 720p or 1080p"
    return None
