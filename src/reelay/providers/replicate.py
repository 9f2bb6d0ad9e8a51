"""Replicate's predictions API (``REPLICATE_API_TOKEN``): create a prediction, poll it, download its output.

Wire format followed (read 2026):
- https://replicate.com/docs/reference/http — ``Authorization: Bearer <token>``; ``POST /v1/models/{owner}/
  {name}/predictions`` with ``{"input": {...}}`` for official models, ``POST /v1/predictions`` with
  ``{"version", "input"}`` for a pinned ``owner/name:version``; the prediction object ``{id, status, output,
  error, urls}``; ``GET /v1/predictions/{id}``; ``POST /v1/predictions/{id}/cancel``; ``GET /v1/models/
  {owner}/{name}`` (``latest_version.openapi_schema``) and ``…/versions/{id}`` (``openapi_schema``).
- https://replicate.com/docs/topics/predictions/create-a-prediction and /docs/topics/predictions/lifecycle —
  async mode (no ``Prefer: wait``), statuses ``starting`` | ``processing`` | ``succeeded`` | ``failed`` |
  ``canceled``; output files are temporary HTTPS URLs (``replicate.delivery``) to download promptly.
- https://replicate.com/docs/topics/predictions/input-files — a data URI is accepted for file inputs.
- https://replicate.com/minimax/video-01/api/schema — ``prompt``, ``prompt_optimizer``, ``first_frame_image``.

Every model names its inputs differently (``first_frame_image``, ``start_image``, ``image`` …) and Replicate
refuses inputs a model does not declare, so this adapter reads the model's published input schema
(``components.schemas.Input.properties``) once per model and sends only what it declares.

Unclear (see docs/providers.md): Replicate has no machine-readable moderation code; a failed prediction
whose ``error`` text reads like a safety refusal (``NSFW``, ``flagged as sensitive``, ``E005`` …) is
reported as ``content_policy_violation``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Final

import httpx

from reelay.errors import UpstreamError
from reelay.providers import http
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.failures import content_policy_refusal
from reelay.providers.remote_inputs import (
    as_object,
    image_data_uri,
    looks_like_policy_refusal,
    media_type,
    unsupported,
    video_data_uri,
    whole_seconds,
)

NAME: Final = "replicate"
IMAGE_INPUTS: Final = ("first_frame_image", "start_image", "image", "input_image", "image_url")
VIDEO_INPUTS: Final = ("video", "input_video", "video_url")
MAX_INLINE_VIDEO_BYTES: Final = 100 * 1024 * 1024  # UNCONFIRMED: Replicate suggests URLs above ~256 KB
# Input-files docs: a data URI "is only recommended if the file is less than 1MB"; larger image
# inputs are uploaded with POST /v1/files and passed as the file's URL.
MAX_INLINE_IMAGE_BYTES: Final = 1_000_000
POLICY_CODES: Final = ("e005",)  # MiniMax's "input or output was flagged as sensitive"


def split_model(model: str) -> tuple[str, str | None]:
    """``owner/name`` and the pinned version id, if the model names one (``owner/name:version``)."""
    name, _, version = model.partition(":")
    if name.count("/") != 1:
        raise UpstreamError(
            f"replicate models are named owner/name, not {model!r}; fix upstream_model in the card",
            code="upstream_rejected",
        )
    return name, version or None


# -- request mapping (pure apart from reading the job's input files) -------------------------------


def input_properties(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's declared inputs from its OpenAPI schema."""
    return as_object(
        as_object(as_object(as_object(schema.get("components")).get("schemas")).get("Input")).get("properties")
    )


def build_input(job: ProviderJob, properties: dict[str, Any], image_url: str | None = None) -> dict[str, Any]:
    """The prediction ``input`` for ``job``: only fields the model declares; passthrough merged last, untouched.
    ``image_url`` is the Replicate file URL of an image too large to send inline."""
    if job.operation == "extend":
        raise unsupported(NAME, f"extend a video with {job.model}", "Replicate has no generic extend")
    body: dict[str, Any] = {"prompt": job.prompt}
    if "duration" in properties and job.operation == "generate":
        seconds = whole_seconds(job.seconds)
        body["duration"] = str(seconds) if as_object(properties["duration"]).get("type") == "string" else seconds
    if "aspect_ratio" in properties and job.aspect_ratio:
        body["aspect_ratio"] = job.aspect_ratio
    if "resolution" in properties and job.resolution:
        body["resolution"] = job.resolution
    if "seed" in properties and job.seed is not None:
        body["seed"] = job.seed
    if job.mode == "i2v":
        key = _input_name(job, properties, IMAGE_INPUTS, "an input image")
        body[key] = image_url or image_data_uri(NAME, job.image_path)
    if job.mode == "v2v" or job.operation == "edit":
        key = _input_name(job, properties, VIDEO_INPUTS, "an input video")
        body[key] = video_data_uri(NAME, job.video_path, MAX_INLINE_VIDEO_BYTES)
    body.update(job.passthrough)
    return body


def _input_name(job: ProviderJob, properties: dict[str, Any], names: tuple[str, ...], what: str) -> str:
    for name in names:
        if name in properties:
            return name
    raise unsupported(NAME, f"take {what} for {job.model}", f"its input schema has none of {', '.join(names)}")


def build_request(
    job: ProviderJob, properties: dict[str, Any], image_url: str | None = None
) -> tuple[str, dict[str, Any]]:
    """(path, JSON body): the official-model route, or ``/v1/predictions`` for a pinned version."""
    name, version = split_model(job.model)
    body: dict[str, Any] = {"input": build_input(job, properties, image_url)}
    if version is None:
        return f"/v1/models/{name}/predictions", body
    return "/v1/predictions", {"version": version, **body}


# -- response mapping (pure) -----------------------------------------------------------------------


def parse_created(data: dict[str, Any]) -> str:
    prediction_id = data.get("id")
    if not isinstance(prediction_id, str) or not prediction_id:
        raise UpstreamError(
            "replicate accepted the request but sent no prediction id", retryable=True, code="upstream_malformed"
        )
    return prediction_id


def parse_prediction(data: dict[str, Any], poll_after: float) -> PollResult:
    """One prediction object as a ``PollResult``."""
    status = data.get("status")
    if status == "starting":
        return PollResult("pending", poll_after=poll_after)
    if status == "processing":
        return PollResult("running", poll_after=poll_after)
    if status == "succeeded":
        urls = output_urls(data.get("output"))
        if not urls:
            error = UpstreamError(
                "replicate finished but its output has no file URL", retryable=True, code="upstream_malformed"
            )
            return PollResult("failed", error=error)
        return PollResult("succeeded", progress=1.0, output_urls=urls)
    if status == "failed":
        return PollResult("failed", error=prediction_error(str(data.get("error") or "")))
    if status == "canceled":
        error = UpstreamError("the replicate prediction was canceled upstream", code="upstream_cancelled")
        return PollResult("failed", error=error)
    if status == "aborted":  # lifecycle docs: "the prediction exceeded its deadline before it could start running"
        error = UpstreamError(
            "replicate aborted the prediction: it passed its deadline before it could start; try again later",
            retryable=True,
            code="upstream_aborted",
        )
        return PollResult("failed", error=error)
    raise UpstreamError(f"replicate sent an unknown status {status!r}", retryable=True, code="upstream_malformed")


def output_urls(output: object) -> tuple[str, ...]:
    """Video models answer with one URL or a list of URLs."""
    if isinstance(output, str):
        return (output,) if output.startswith(("http://", "https://")) else ()
    if isinstance(output, list):
        return tuple(u for u in output if isinstance(u, str) and u.startswith(("http://", "https://")))
    return ()


def prediction_error(text: str) -> UpstreamError:
    message = text.strip()[:300] or "no reason given"
    if looks_like_policy_refusal(message) or any(code in message.lower() for code in POLICY_CODES):
        return content_policy_refusal(NAME, message)
    return UpstreamError(f"replicate failed the prediction: {message}", retryable=False, code="upstream_failed")


# -- the provider (thin async I/O) -----------------------------------------------------------------


class ReplicateProvider:
    """The worker's view of Replicate. Resumable: a stored prediction id is polled after a restart."""

    name = NAME
    resumable = True
    poll_interval = 3.0  # UNCONFIRMED: Replicate gives no polling guidance; its clients poll every 0.5-1 s

    def __init__(
        self, *, api_key: str, base_url: str, client: httpx.AsyncClient, poll_interval: float | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._schemas: dict[str, dict[str, Any]] = {}
        if poll_interval is not None:
            self.poll_interval = poll_interval

    async def submit(self, job: ProviderJob) -> str:
        properties = await self._input_properties(job.model)
        image_url = None
        image = job.image_path if job.mode == "i2v" else None
        if image is not None and image.stat().st_size > MAX_INLINE_IMAGE_BYTES:
            image_url = await self._upload(image)
        path, body = await asyncio.to_thread(build_request, job, properties, image_url)
        response = await http.request(
            NAME, self._client, "POST", self._base_url + path, json=body, headers=self._headers
        )
        return parse_created(http.json_body(NAME, response))

    async def _upload(self, path: Path) -> str:
        """``POST /v1/files`` (multipart ``content``, as replicate-python's ``files.create`` sends it):
        the file's ``urls.get`` is what a prediction input takes."""
        content = await asyncio.to_thread(path.read_bytes)
        files = {"content": (path.name, content, media_type(path))}
        response = await http.request(
            NAME, self._client, "POST", f"{self._base_url}/v1/files", files=files, headers=self._headers
        )
        url = as_object(as_object(http.json_body(NAME, response)).get("urls")).get("get")
        if not isinstance(url, str) or not url:
            raise UpstreamError(
                "replicate stored the input file but sent no urls.get", retryable=True, code="upstream_malformed"
            )
        return url

    async def _input_properties(self, model: str) -> dict[str, Any]:
        """The model's declared inputs, read once per model from its published schema."""
        if model not in self._schemas:
            name, version = split_model(model)
            path = f"/v1/models/{name}" + (f"/versions/{version}" if version else "")
            response = await http.request(NAME, self._client, "GET", self._base_url + path, headers=self._headers)
            data = http.json_body(NAME, response)
            schema = as_object(
                data.get("openapi_schema") if version else as_object(data.get("latest_version")).get("openapi_schema")
            )
            properties = input_properties(schema)
            if not properties:
                raise UpstreamError(
                    f"replicate published no input schema for {model}", retryable=True, code="upstream_malformed"
                )
            self._schemas[model] = properties
        return self._schemas[model]

    async def poll(self, upstream_id: str) -> PollResult:
        url = f"{self._base_url}/v1/predictions/{upstream_id}"
        response = await http.request(NAME, self._client, "GET", url, headers=self._headers)
        return parse_prediction(http.json_body(NAME, response), self.poll_interval)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        """Download the first output file now; it is a delivery CDN link, so our token is not sent."""
        if not result.output_urls:
            raise UpstreamError(
                f"replicate gave no output URL for {upstream_id}", retryable=True, code="upstream_malformed"
            )
        await http.download(NAME, self._client, result.output_urls[0], destination)

    async def cancel(self, upstream_id: str) -> None:
        url = f"{self._base_url}/v1/predictions/{upstream_id}/cancel"
        response = await http.request(NAME, self._client, "POST", url, headers=self._headers)
        http.check_response(NAME, response)
