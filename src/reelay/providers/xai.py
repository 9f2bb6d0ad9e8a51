"""xAI's Grok Imagine video API: generate (text/image/references → video), edit and extend, then poll.

Wire format followed (read 2026; xAI publishes no OpenAPI file for these routes):
- https://docs.x.ai/developers/model-capabilities/video.md — endpoints, async flow, limits (15 s
  generation, 8.7 s edit input, 2-10 s extensions of a 2-15 s input), temporary output URLs.
- https://docs.x.ai/developers/model-capabilities/video/extension.md — ``duration`` is the ADDED part.
- https://docs.x.ai/developers/model-capabilities/video/editing — edits keep the input's length and
  shape; ``duration``/``aspect_ratio``/``resolution`` are not accepted there.
- https://docs.x.ai/developers/rest-api-reference/inference.md — ``Authorization: Bearer``.
- Vercel AI SDK ``packages/xai/src/xai-video-model.ts`` (github.com/vercel/ai) — JSON bodies,
  ``image: {url}`` / ``video: {url}`` with ``data:<mime>;base64,`` for inline bytes, the status schema
  (``pending|done|expired|failed``, ``video.url``, ``video.respect_moderation``, ``progress``, ``error``)
  and "a missing status with a video URL means done"; reference-to-video is the generations endpoint
  with ``reference_images: [{url}]`` (1-7 images, not combined with ``image``).

What this module owns: turning a ``ProviderJob`` into one JSON request, and one status body into a
``PollResult`` (pure functions, no I/O), plus the thin async class the worker calls. HTTP failures are
mapped by ``providers.http`` only. xAI has no cancel endpoint (none is documented), so ``cancel`` is a
no-op: a cancelled job simply stops being polled.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Final

import httpx

from reelay.errors import UpstreamError
from reelay.providers import http
from reelay.providers.base import Operation, PollResult, ProviderJob
from reelay.providers.failures import content_policy_refusal, job_failure
from reelay.providers.remote_inputs import media_type

NAME: Final = "xai"
PATHS: Final[dict[Operation, str]] = {
    "generate": "/v1/videos/generations",
    "edit": "/v1/videos/edits",
    "extend": "/v1/videos/extensions",
}
GENERATE_SECONDS: Final = (1, 15)
REFERENCE_SECONDS: Final = (1, 10)  # "The maximum duration allowed when using reference images is 10 seconds."
EXTEND_SECONDS: Final = (2, 10)  # the length of the ADDED part
# xAI documents no size limit for inline (data URI) videos; a reseller (Comfy) states 50 MB. Checked
# here so a too-large input fails fast with a clear message instead of an opaque upstream 400/413.
MAX_INLINE_VIDEO_BYTES: Final = 50 * 1024 * 1024
USD_TICKS: Final = 10_000_000_000  # usage.cost_in_usd_ticks per US dollar


# -- request mapping (pure apart from reading the job's input files) -------------------------------


def xai_operation(job: ProviderJob) -> Operation:
    """The endpoint a job goes to: an input video without an explicit operation is an edit."""
    if job.operation != "generate":
        return job.operation
    return "edit" if job.mode == "v2v" else "generate"


def build_request(job: ProviderJob) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for ``job``; passthrough fields are merged last, untouched."""
    operation = xai_operation(job)
    body: dict[str, Any] = {"model": job.model, "prompt": job.prompt}
    if operation == "generate":
        bounds = REFERENCE_SECONDS if job.reference_paths else GENERATE_SECONDS
        body["duration"] = whole_seconds(job.seconds, bounds)
        if job.aspect_ratio:
            body["aspect_ratio"] = job.aspect_ratio
        if job.resolution:
            body["resolution"] = job.resolution
        if job.reference_paths:  # reference-to-video: the same endpoint, images as references
            body["reference_images"] = [{"url": image_data_uri(path)} for path in job.reference_paths]
        elif job.mode == "i2v":
            body["image"] = {"url": image_data_uri(job.image_path)}
    else:  # edit and extend take the source video; the output keeps its shape (and, for edit, length)
        body["video"] = {"url": video_data_uri(job.video_path)}
        if operation == "extend":
            body["duration"] = whole_seconds(job.seconds, EXTEND_SECONDS)
    body.update(job.passthrough)
    return PATHS[operation], body


def whole_seconds(seconds: float, bounds: tuple[int, int]) -> int:
    """xAI takes whole seconds; a value outside its range is refused here, not silently clamped."""
    value = round(seconds)
    low, high = bounds
    if not low <= value <= high:
        raise UpstreamError(
            f"xAI accepts a duration of {low}-{high} s here, not {seconds:g} s; change seconds",
            retryable=False,
            code="unsupported_parameter",
        )
    return value


def image_data_uri(path: Path | None) -> str:
    if path is None:
        raise UpstreamError("image-to-video needs an input image, and this job has none", code="input_missing")
    return http.data_uri(path, media_type(path))  # the type read from the bytes: xAI sees what it gets


def video_data_uri(path: Path | None) -> str:
    if path is None:
        raise UpstreamError("editing or extending needs an input video, and this job has none", code="input_missing")
    size = path.stat().st_size
    if size > MAX_INLINE_VIDEO_BYTES:
        raise UpstreamError(
            f"the input video is {size / 2**20:.0f} MiB; xAI takes inline videos up to "
            f"{MAX_INLINE_VIDEO_BYTES // 2**20} MiB — send a shorter or smaller MP4",
            retryable=False,
            code="input_too_large",
        )
    mime = media_type(path)
    if mime != "video/mp4":  # create converts MOV/WebM for this card; an old job's input may not be
        raise UpstreamError(
            f"xAI takes MP4 videos only (H.264, H.265 or AV1), and this input is {mime}; send an MP4",
            retryable=False,
            code="unsupported_parameter",
        )
    return http.data_uri(path, mime)


# -- response mapping (pure) -----------------------------------------------------------------------


def parse_created(data: dict[str, Any]) -> str:
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise UpstreamError(
            "xai accepted the request but sent no request_id", retryable=True, code="upstream_malformed"
        )
    return request_id


def parse_status(data: dict[str, Any], poll_after: float) -> PollResult:
    """One ``GET /v1/videos/{request_id}`` body as a ``PollResult``."""
    status = data.get("status")
    video = _object(data.get("video"))
    url = video.get("url") if isinstance(video.get("url"), str) else ""
    if status == "done" or (status is None and url):
        if video.get("respect_moderation") is False:
            return PollResult("failed", error=content_policy_refusal(NAME, "the output failed xAI's moderation"))
        if not url:
            error = UpstreamError("xai finished the video but sent no URL", retryable=True, code="upstream_malformed")
            return PollResult("failed", error=error)
        return PollResult("succeeded", progress=1.0, output_urls=(url,), reported_cost_usd=reported_cost(data))
    if status == "expired":
        error = UpstreamError(
            "xai let the request expire before it finished; submit it again", retryable=False, code="upstream_expired"
        )
        return PollResult("failed", error=error)
    if status == "failed":
        details = _object(data.get("error"))
        return PollResult("failed", error=job_failure(NAME, details.get("code"), details.get("message")))
    return PollResult("running", progress=_fraction(data.get("progress")), poll_after=poll_after)


def reported_cost(data: dict[str, Any]) -> float | None:
    """USD from ``usage.cost_in_usd_ticks`` (1 USD = 10^10 ticks: docs.x.ai/developers/cost-tracking)."""
    ticks = _object(data.get("usage")).get("cost_in_usd_ticks")
    if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks < 0:
        return None
    return ticks / USD_TICKS


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _fraction(progress: object) -> float | None:
    if isinstance(progress, bool) or not isinstance(progress, int | float):
        return None
    return min(1.0, max(0.0, float(progress) / 100.0))


# -- the provider (thin async I/O) -----------------------------------------------------------------


class XAIProvider:
    """The worker's view of xAI. Resumable: a stored ``request_id`` can be polled after a restart."""

    name = NAME
    resumable = True
    poll_interval = 5.0  # xAI's own examples poll every 5 s; no rate limit for polling is documented

    def __init__(
        self, *, api_key: str, base_url: str, client: httpx.AsyncClient, poll_interval: float | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"}
        if poll_interval is not None:
            self.poll_interval = poll_interval

    async def submit(self, job: ProviderJob) -> str:
        path, body = await asyncio.to_thread(build_request, job)  # base64 of an input file: off the loop
        url = self._base_url + path
        response = await http.request(NAME, self._client, "POST", url, json=body, headers=self._headers)
        return parse_created(http.json_body(NAME, response))

    async def poll(self, upstream_id: str) -> PollResult:
        url = f"{self._base_url}/v1/videos/{upstream_id}"
        response = await http.request(NAME, self._client, "GET", url, headers=self._headers)
        return parse_status(http.json_body(NAME, response), self.poll_interval)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        """Download the temporary URL now; it is a CDN link, so our key is not sent along."""
        if not result.output_urls:
            raise UpstreamError(f"xai gave no output URL for {upstream_id}", retryable=True, code="upstream_malformed")
        await http.download(NAME, self._client, result.output_urls[0], destination)

    async def cancel(self, upstream_id: str) -> None:
        """No-op: xAI documents no way to cancel a video request; it finishes (and bills) upstream."""
