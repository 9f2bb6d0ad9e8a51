"""Runway's developer API (``RUNWAYML_API_SECRET``): start a task, poll ``/v1/tasks/{id}``, download.

Wire format followed (read 2026):
- https://docs.dev.runwayml.com/api/ — ``POST /v1/image_to_video`` (``model``, ``promptImage``, ``promptText``,
  ``ratio`` as ``"1280:720"``, ``duration``, ``seed``), ``POST /v1/text_to_video``, ``POST /v1/video_to_video``
  (``videoUri``), ``GET /v1/tasks/{id}``, ``DELETE /v1/tasks/{id}`` (cancel or delete); headers
  ``Authorization: Bearer <secret>`` and ``X-Runway-Version: 2024-11-06``.
- runwayml (PyPI, 5.24) ``types/image_to_video_create_params.py`` (gen4_turbo: ratios 1280:720, 720:1280,
  1104:832, 832:1104, 960:960, 1584:672; images as HTTPS URL or a data URI up to 5 MB),
  ``types/video_to_video_create_params.py`` (``videoUri`` data URI up to 5 MB) and
  ``types/task_retrieve_response.py`` (``PENDING`` | ``THROTTLED`` | ``RUNNING`` with ``progress`` 0-1 |
  ``SUCCEEDED`` with ``output: [url]`` | ``FAILED`` with ``failure`` and ``failureCode`` | ``CANCELLED``).
- https://docs.dev.runwayml.com/errors/task-failures/ — ``failureCode`` families: ``SAFETY.*`` (moderation,
  not retryable), ``INTERNAL.*`` (transient, retry), ``ASSET.*`` / ``INPUT_PREPROCESSING.*`` (bad input).

Inputs: images go as data URIs up to Runway's 5 MB cap; larger ones are uploaded first with Runway's
uploads API, as runwayml's ``uploads.create_ephemeral`` does (``POST /v1/uploads`` ``{filename, type:
"ephemeral"}`` → ``{uploadUrl, fields, runwayUri}``, then a multipart POST of ``fields`` + ``file`` to
``uploadUrl`` without our secret), and the ``runway://`` URI goes in ``promptImage``.

Unclear (see docs/providers.md): which models ``/v1/video_to_video`` takes changes often (gen4_aleph, then
aleph2); the model name comes from the card, the adapter only chooses the route.
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
    media_type,
    required_image,
    unsupported,
    video_data_uri,
    whole_seconds,
)

NAME: Final = "runway"
API_VERSION: Final = "2024-11-06"
MAX_INLINE_VIDEO_BYTES: Final = 5 * 1024 * 1024  # Runway's documented cap for data URIs
# Runway's input guide: data URIs up to 5 MB for images (read as decimal megabytes, the safe side).
MAX_INLINE_IMAGE_BYTES: Final = 5_000_000


# -- request mapping (pure apart from reading the job's input files) -------------------------------


def build_request(job: ProviderJob, image_url: str | None = None) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for ``job``; ``image_url`` is the ``runway://`` URI of an uploaded image."""
    if job.operation == "extend":
        raise unsupported(NAME, "extend a video", "Runway's API has no extension route")
    body: dict[str, Any] = {"model": job.model, "promptText": job.prompt}
    if job.seed is not None:
        body["seed"] = job.seed
    if job.operation == "edit" or job.mode == "v2v":
        body["videoUri"] = video_data_uri(NAME, job.video_path, MAX_INLINE_VIDEO_BYTES)
        path = "/v1/video_to_video"
    else:
        body["ratio"] = f"{job.width}:{job.height}"  # Runway names its output sizes as ratios: "1280:720"
        body["duration"] = whole_seconds(job.seconds)
        if job.mode == "i2v":
            body["promptImage"] = image_url or inline_image(job)
            path = "/v1/image_to_video"
        else:
            path = "/v1/text_to_video"
    body.update(job.passthrough)
    return path, body


def inline_image(job: ProviderJob) -> str:
    """The start frame as a data URI; never above Runway's 5 MB cap (``submit`` uploads those first)."""
    path = required_image(NAME, job.image_path)
    size = path.stat().st_size
    if size > MAX_INLINE_IMAGE_BYTES:
        raise UpstreamError(
            f"the image is {size / 1e6:.1f} MB; runway takes data URIs up to 5 MB, so it must be uploaded first",
            retryable=False,
            code="input_too_large",
        )
    return image_data_uri(NAME, path)


def parse_upload(data: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(runwayUri, uploadUrl, form fields) of a ``POST /v1/uploads`` answer."""
    uri, url, fields = data.get("runwayUri"), data.get("uploadUrl"), data.get("fields")
    if not isinstance(uri, str) or not isinstance(url, str) or not isinstance(fields, dict):
        raise UpstreamError(
            "runway's upload answer has no runwayUri/uploadUrl/fields", retryable=True, code="upstream_malformed"
        )
    return uri, url, {str(k): str(v) for k, v in fields.items()}


# -- response mapping (pure) -----------------------------------------------------------------------


def parse_created(data: dict[str, Any]) -> str:
    task_id = data.get("id")
    if not isinstance(task_id, str) or not task_id:
        raise UpstreamError(
            "runway accepted the request but sent no task id", retryable=True, code="upstream_malformed"
        )
    return task_id


def parse_task(data: dict[str, Any], poll_after: float) -> PollResult:
    """One ``GET /v1/tasks/{id}`` body as a ``PollResult``."""
    status = data.get("status")
    if status in ("PENDING", "THROTTLED"):
        return PollResult("pending", poll_after=poll_after)
    if status == "RUNNING":
        progress = data.get("progress")
        fraction = float(progress) if isinstance(progress, int | float) and not isinstance(progress, bool) else None
        return PollResult(
            "running", progress=None if fraction is None else min(1.0, max(0.0, fraction)), poll_after=poll_after
        )
    if status == "SUCCEEDED":
        output = data.get("output")
        urls = tuple(u for u in output if isinstance(u, str) and u) if isinstance(output, list) else ()
        if not urls:
            error = UpstreamError(
                "runway finished the task but sent no output URL", retryable=True, code="upstream_malformed"
            )
            return PollResult("failed", error=error)
        return PollResult("succeeded", progress=1.0, output_urls=urls)
    if status == "FAILED":
        return PollResult("failed", error=task_failure(data.get("failureCode"), data.get("failure")))
    if status == "CANCELLED":
        return PollResult(
            "failed", error=UpstreamError("the runway task was cancelled upstream", code="upstream_cancelled")
        )
    raise UpstreamError(f"runway sent an unknown task status {status!r}", retryable=True, code="upstream_malformed")


def task_failure(code: object, failure: object) -> UpstreamError:
    """``failureCode`` families → policy refusal, transient fault, or a final failure."""
    family = str(code or "").upper()
    reason = str(failure or "no reason given")[:300]
    if "SAFETY" in family.split("."):
        return content_policy_refusal(NAME, f"{reason} ({family})")
    transient = family.startswith("INTERNAL") or ".INTERNAL" in family
    label = f" ({family})" if family else ""
    return UpstreamError(f"runway failed the task{label}: {reason}", retryable=transient, code="upstream_failed")


# -- the provider (thin async I/O) -----------------------------------------------------------------


class RunwayProvider:
    """The worker's view of Runway. Resumable: a stored task id is polled after a restart."""

    name = NAME
    resumable = True
    poll_interval = 5.0  # Runway's docs ask for polling no more often than every 5 s

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        client: httpx.AsyncClient,
        poll_interval: float | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}", "X-Runway-Version": API_VERSION}
        if poll_interval is not None:
            self.poll_interval = poll_interval

    async def submit(self, job: ProviderJob) -> str:
        image_url = None
        image = job.image_path if job.mode == "i2v" else None
        if image is not None and image.stat().st_size > MAX_INLINE_IMAGE_BYTES:
            image_url = await self._upload(image)  # over the data-URI cap: Runway's own upload
        path, body = await asyncio.to_thread(build_request, job, image_url)  # base64 of inputs: off the loop
        response = await http.request(
            NAME, self._client, "POST", self._base_url + path, json=body, headers=self._headers
        )
        return parse_created(http.json_body(NAME, response))

    async def _upload(self, path: Path) -> str:
        """Runway's ephemeral upload; the presigned ``uploadUrl`` gets the file, never our secret."""
        url = f"{self._base_url}/v1/uploads"
        body = {"filename": path.name, "type": "ephemeral"}
        response = await http.request(NAME, self._client, "POST", url, json=body, headers=self._headers)
        uri, upload_url, fields = parse_upload(http.json_body(NAME, response))
        content = await asyncio.to_thread(path.read_bytes)
        files = {"file": (path.name, content, media_type(path))}
        response = await http.request(NAME, self._client, "POST", upload_url, data=fields, files=files)
        http.check_response(NAME, response)
        return uri

    async def poll(self, upstream_id: str) -> PollResult:
        url = f"{self._base_url}/v1/tasks/{upstream_id}"
        response = await http.request(NAME, self._client, "GET", url, headers=self._headers)
        return parse_task(as_object(http.json_body(NAME, response)), self.poll_interval)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        """Download the output now; it is a signed, expiring link, so our secret is not sent along."""
        if not result.output_urls:
            raise UpstreamError(
                f"runway gave no output URL for {upstream_id}", retryable=True, code="upstream_malformed"
            )
        await http.download(NAME, self._client, result.output_urls[0], destination)

    async def cancel(self, upstream_id: str) -> None:
        """``DELETE /v1/tasks/{id}`` cancels a running task (and deletes a finished one); 404 is fine."""
        url = f"{self._base_url}/v1/tasks/{upstream_id}"
        response = await http.request(NAME, self._client, "DELETE", url, headers=self._headers)
        if response.status_code != 404:
            http.check_response(NAME, response)
