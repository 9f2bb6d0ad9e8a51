"""Google Veo through the Gemini API (``GEMINI_API_KEY``): one long-running operation per video.

Wire format followed (read 2026):
- https://ai.google.dev/gemini-api/docs/video — ``POST /v1beta/models/{model}:predictLongRunning`` with
  ``x-goog-api-key``; body ``{"instances": [{"prompt", "image"}], "parameters": {...}}``; the answer is an
  operation ``{"name": "models/…/operations/…"}``; poll ``GET /v1beta/{name}`` until ``done``; the video is
  at ``response.generateVideoResponse.generatedSamples[].video.uri`` and its download needs the key too.
- google-genai (PyPI, 1.40) ``models._GenerateVideosParameters_to_mldev`` / ``_GenerateVideosConfig_to_mldev``
  / ``_Image_to_mldev`` and ``_operations_converters._GenerateVideosResponse_from_mldev`` — the exact Gemini API
  field names: ``parameters.aspectRatio``, ``durationSeconds``, ``resolution``, ``negativePrompt``,
  ``personGeneration``, ``sampleCount``; ``image: {bytesBase64Encoded, mimeType}``; ``raiMediaFilteredCount``
  and ``raiMediaFilteredReasons`` for outputs removed by the safety filters. The same converter refuses
  ``seed``, ``generateAudio`` and an input ``video`` on the Gemini API (Vertex-only), so Reelay sends none.
- https://discuss.ai.google.dev/t/ambiguous-documentation-on-veo-2-rest-method/79193 — the REST download
  step is under-documented; the key is sent as ``x-goog-api-key`` to Google's own host only.

Unclear in the docs (see docs/providers.md): whether ``POST /v1beta/{name}:cancel`` works for Veo
operations (not documented, so ``cancel`` is a no-op), and whether a prompt refused up front arrives as
an HTTP 400 or as a finished operation with ``raiMediaFilteredCount`` (both are handled).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from reelay.errors import UpstreamError
from reelay.providers import http
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.failures import content_policy_refusal
from reelay.providers.remote_inputs import (
    as_object,
    looks_like_policy_refusal,
    media_type,
    unsupported,
    whole_seconds,
)

NAME: Final = "gemini"
API_VERSION: Final = "v1beta"
# google.rpc.Code numbers that say "try again": DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE.
TRANSIENT_RPC_CODES: Final = frozenset({4, 8, 13, 14})


# -- request mapping (pure apart from reading the job's input image) -------------------------------


def build_request(job: ProviderJob) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for ``job``; passthrough fields go into ``parameters`` untouched."""
    if job.operation != "generate" or job.mode == "v2v":
        raise unsupported(
            NAME,
            f"{job.operation} a video with {job.model}",
            "the Gemini API takes no input video for Veo; use a text or image prompt",
        )
    instance: dict[str, Any] = {"prompt": job.prompt}
    if job.mode == "i2v":
        instance["image"] = inline_image(job.image_path)
    parameters: dict[str, Any] = {}
    if "durationSeconds" not in job.omit:  # Veo 3.0's card omits it: the Gemini API refused it there
        parameters["durationSeconds"] = whole_seconds(job.seconds)
    if job.aspect_ratio:
        parameters["aspectRatio"] = job.aspect_ratio
    if job.resolution:
        parameters["resolution"] = job.resolution
    parameters.update(job.passthrough)
    return f"/{API_VERSION}/models/{job.model}:predictLongRunning", {"instances": [instance], "parameters": parameters}


def inline_image(path: Path | None) -> dict[str, str]:
    """The Gemini API's inline image: base64 bytes and a MIME type (no data: prefix)."""
    if path is None:
        raise UpstreamError("image-to-video needs an input image, and this job has none", code="input_missing")
    return {"bytesBase64Encoded": base64.b64encode(path.read_bytes()).decode(), "mimeType": media_type(path)}


# -- response mapping (pure) -----------------------------------------------------------------------


def parse_created(data: dict[str, Any]) -> str:
    name = data.get("name")
    if not isinstance(name, str) or "/operations/" not in name:
        raise UpstreamError(
            "gemini accepted the request but sent no operation name", retryable=True, code="upstream_malformed"
        )
    return name


def parse_operation(data: dict[str, Any], poll_after: float) -> PollResult:
    """One ``GET /v1beta/{operation}`` body as a ``PollResult``."""
    if not data.get("done"):
        return PollResult("running", poll_after=poll_after)
    if "error" in data:
        return PollResult("failed", error=operation_error(as_object(data.get("error"))))
    answer = as_object(as_object(data.get("response")).get("generateVideoResponse"))
    samples = answer.get("generatedSamples")
    urls = tuple(
        uri
        for sample in (samples if isinstance(samples, list) else [])
        if isinstance(uri := as_object(as_object(sample).get("video")).get("uri"), str) and uri
    )
    if urls:
        return PollResult("succeeded", progress=1.0, output_urls=urls)
    filtered = answer.get("raiMediaFilteredCount")
    if isinstance(filtered, int) and filtered > 0:
        reasons = answer.get("raiMediaFilteredReasons")
        detail = "; ".join(str(r) for r in reasons)[:300] if isinstance(reasons, list) else ""
        return PollResult("failed", error=content_policy_refusal(NAME, detail))
    error = UpstreamError("gemini finished the operation but sent no video", retryable=True, code="upstream_malformed")
    return PollResult("failed", error=error)


def operation_error(status: dict[str, Any]) -> UpstreamError:
    """A ``google.rpc.Status`` on a finished operation as an ``UpstreamError``."""
    code = status.get("code")
    message = str(status.get("message") or "no reason given")[:300]
    if looks_like_policy_refusal(message):
        return content_policy_refusal(NAME, message)
    transient = isinstance(code, int) and code in TRANSIENT_RPC_CODES
    return UpstreamError(
        f"gemini failed the generation (code {code}): {message}", retryable=transient, code="upstream_failed"
    )


def raise_for_bad_key(response: httpx.Response) -> None:
    """Google answers a wrong key with HTTP 400 ``API_KEY_INVALID``, not 401: still an auth failure."""
    if response.status_code != 400:
        return
    try:
        error = as_object(response.json().get("error"))
    except (ValueError, AttributeError):
        return
    details = error.get("details")
    reasons = {as_object(d).get("reason") for d in details} if isinstance(details, list) else set()
    if "API_KEY_INVALID" in reasons:
        raise UpstreamError(
            "gemini refused the API key; check GEMINI_API_KEY", retryable=False, code="upstream_auth_failed"
        )


# -- the provider (thin async I/O) -----------------------------------------------------------------


class VeoProvider:
    """The worker's view of Veo on the Gemini API. Resumable: the operation name is polled after a restart."""

    name = NAME
    resumable = True
    poll_interval = 10.0  # Google's own examples poll every 10 s

    def __init__(
        self, *, api_key: str, base_url: str, client: httpx.AsyncClient, poll_interval: float | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._headers = {"x-goog-api-key": api_key}
        if poll_interval is not None:
            self.poll_interval = poll_interval

    async def submit(self, job: ProviderJob) -> str:
        path, body = await asyncio.to_thread(build_request, job)  # base64 of the input image: off the loop
        response = await http.request(
            NAME, self._client, "POST", self._base_url + path, json=body, headers=self._headers
        )
        raise_for_bad_key(response)
        return parse_created(http.json_body(NAME, response))

    async def poll(self, upstream_id: str) -> PollResult:
        url = f"{self._base_url}/{API_VERSION}/{upstream_id}"
        response = await http.request(NAME, self._client, "GET", url, headers=self._headers)
        raise_for_bad_key(response)
        return parse_operation(http.json_body(NAME, response), self.poll_interval)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        """Download the first video; the key goes along only to the Gemini API's own host."""
        if not result.output_urls:
            raise UpstreamError(
                f"gemini gave no video URI for {upstream_id}", retryable=True, code="upstream_malformed"
            )
        url = result.output_urls[0]
        headers = self._headers if _same_origin(url, self._base_url) else None
        await http.download(NAME, self._client, url, destination, headers=headers)

    async def cancel(self, upstream_id: str) -> None:
        """No-op: the Gemini API documents no cancel for Veo operations; the operation runs to its end."""


def _same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)
