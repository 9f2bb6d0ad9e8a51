"""fal's queue API (``FAL_KEY``): submit to ``queue.fal.run/{model}``, poll the status, fetch the result.

Wire format followed (read 2026):
- https://docs.fal.ai/documentation/model-apis/inference/queue (also fal.ai/docs/inference-api/queue/status.md)
  — ``POST https://queue.fal.run/{model_id}`` with ``Authorization: Key <FAL_KEY>`` and the model's input as
  the JSON body → ``{request_id, status_url, response_url, cancel_url}``; ``GET …/requests/{id}/status`` →
  ``IN_QUEUE`` (with ``queue_position``) | ``IN_PROGRESS`` | ``COMPLETED``; ``GET …/requests/{id}`` → the
  model's output; ``PUT …/requests/{id}/cancel``. For model ids with a sub-path (``fal-ai/kling-video/v2.1/
  master/text-to-video``) the status and result URLs live under the app id only, which is why the adapter
  keeps the path of the ``status_url`` fal returns as the upstream id.
- https://fal.ai/docs/errors (Model Errors) — a refused input is HTTP 422 with ``{"detail": [{"loc", "msg",
  "type": "content_policy_violation", …}]}``; ``type`` is the machine-readable part, not ``msg``.
- fal-client (PyPI, 1.0.3) ``fal_client/client.py`` — the same routes, the ``Key`` scheme, and that a data
  URI is accepted wherever a model takes a file URL (``image_url``, ``video_url``).
- Model pages fal.ai/models/fal-ai/kling-video/v2.1/master/text-to-video/api and
  fal.ai/models/fal-ai/wan-25-preview/text-to-video/api — the common input names: ``prompt``, ``duration``
  as a string of whole seconds (``"5"``), ``aspect_ratio``, ``resolution``, ``negative_prompt``, ``seed``,
  ``image_url``; output ``{"video": {"url", "content_type", …}}``; sibling ``…/image-to-video`` endpoints.

Unclear (see docs/providers.md): fal does not say whether every model ignores input fields it does not
declare (this adapter sends ``resolution`` and ``seed`` whenever the job has them); whether ``COMPLETED``
status bodies always carry ``error`` for failed runs (both that and a failing result fetch are handled).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from reelay.errors import UpstreamError
from reelay.providers import http
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.failures import CONTENT_POLICY, content_policy_refusal, job_failure
from reelay.providers.remote_inputs import (
    as_object,
    first_string,
    image_data_uri,
    unsupported,
    video_data_uri,
    whole_seconds,
)

NAME: Final = "fal"
MAX_INLINE_VIDEO_BYTES: Final = 50 * 1024 * 1024  # UNCONFIRMED: fal documents no cap for data URIs
T2V_SUFFIX: Final = "/text-to-video"
I2V_SUFFIX: Final = "/image-to-video"


# -- request mapping (pure apart from reading the job's input files) -------------------------------


def model_path(job: ProviderJob) -> str:
    """The fal endpoint for ``job``: an image job on a ``…/text-to-video`` model goes to its ``…/image-to-video``."""
    if job.mode == "i2v" and job.model.endswith(T2V_SUFFIX):
        return job.model[: -len(T2V_SUFFIX)] + I2V_SUFFIX
    return job.model.strip("/")


def build_input(job: ProviderJob) -> dict[str, Any]:
    """The model input for ``job``; passthrough fields are merged last, untouched."""
    if job.operation == "extend":
        raise unsupported(
            NAME,
            "extend a video through its generic queue API",
            "pick a fal model that does it and send its own fields as passthrough",
        )
    body: dict[str, Any] = {"prompt": job.prompt}
    if job.operation == "generate" and job.mode != "v2v":
        body["duration"] = str(whole_seconds(job.seconds))  # fal video models take duration as "5", "10"
        if job.aspect_ratio and "aspect_ratio" not in job.omit:
            body["aspect_ratio"] = job.aspect_ratio
    if job.resolution and "resolution" not in job.omit:  # fields the model's schema lacks are not sent
        body["resolution"] = job.resolution
    if job.seed is not None and "seed" not in job.omit:
        body["seed"] = job.seed
    if job.mode == "i2v":
        body["image_url"] = image_data_uri(NAME, job.image_path)
    if job.mode == "v2v" or job.operation == "edit":
        body["video_url"] = video_data_uri(NAME, job.video_path, MAX_INLINE_VIDEO_BYTES)
    body.update(job.passthrough)
    return body


# -- response mapping (pure) -----------------------------------------------------------------------


def parse_submitted(data: dict[str, Any], model: str, base_url: str) -> str:
    """The upstream id: the request's path under the queue host, e.g. ``fal-ai/kling-video/requests/<id>``.

    fal's own ``status_url`` is used when it points at our base URL (it knows the app id); otherwise the
    documented default ``{owner}/{app}/requests/{request_id}`` is built from the model id.
    """
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise UpstreamError(
            "fal accepted the request but sent no request_id", retryable=True, code="upstream_malformed"
        )
    status_url = data.get("status_url")
    if isinstance(status_url, str) and status_url.endswith(f"/requests/{request_id}/status"):
        parts, base = urlsplit(status_url), urlsplit(base_url)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and parts.path.startswith(base.path):
            return parts.path[len(base.path) :].strip("/").removesuffix("/status")
    app_id = "/".join(model.strip("/").split("/")[:2])
    return f"{app_id}/requests/{request_id}"


def parse_status(data: dict[str, Any], poll_after: float) -> PollResult | None:
    """A status body as a ``PollResult``; None means COMPLETED (fetch the result next)."""
    status = data.get("status")
    if status == "IN_QUEUE":
        return PollResult("pending", poll_after=poll_after)
    if status == "IN_PROGRESS":
        return PollResult("running", poll_after=poll_after)
    if status == "COMPLETED":
        if data.get("error"):
            return PollResult("failed", error=job_failure(NAME, data.get("error_type"), data.get("error")))
        return None
    raise UpstreamError(f"fal sent an unknown status {status!r}", retryable=True, code="upstream_malformed")


def parse_result(data: dict[str, Any]) -> PollResult:
    """A model output as a ``PollResult``: ``{"video": {"url"}}`` (or ``videos[0]``)."""
    videos = data.get("videos")
    first = as_object(videos[0]) if isinstance(videos, list) and videos else {}
    url = first_string(as_object(data.get("video")).get("url"), first.get("url"))
    if not url:
        error = UpstreamError(
            "fal finished the request but its output has no video URL", retryable=True, code="upstream_malformed"
        )
        return PollResult("failed", error=error)
    return PollResult("succeeded", progress=1.0, output_urls=(url,))


def model_error(response: httpx.Response) -> UpstreamError | None:
    """fal's typed model error (``detail[].type``) when it is a content-policy refusal, else None."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    for item in detail if isinstance(detail, list) else []:
        entry = as_object(item)
        if entry.get("type") == CONTENT_POLICY:
            return content_policy_refusal(NAME, str(entry.get("msg") or ""))
    return None


# -- the provider (thin async I/O) -----------------------------------------------------------------


class FalProvider:
    """The worker's view of fal. Resumable: the request path is polled again after a restart."""

    name = NAME
    resumable = True
    poll_interval = 3.0  # UNCONFIRMED: fal gives no polling guidance; its client polls every 0.5-1 s

    def __init__(
        self, *, api_key: str, base_url: str, client: httpx.AsyncClient, poll_interval: float | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._headers = {"Authorization": f"Key {api_key}"}
        if poll_interval is not None:
            self.poll_interval = poll_interval

    async def submit(self, job: ProviderJob) -> str:
        body = await asyncio.to_thread(build_input, job)  # base64 of input files: off the loop
        path = model_path(job)
        response = await http.request(
            NAME, self._client, "POST", f"{self._base_url}/{path}", json=body, headers=self._headers
        )
        _raise_model_error(response)
        return parse_submitted(http.json_body(NAME, response), path, self._base_url)

    async def poll(self, upstream_id: str) -> PollResult:
        url = f"{self._base_url}/{upstream_id}"
        response = await http.request(NAME, self._client, "GET", f"{url}/status", headers=self._headers)
        result = parse_status(http.json_body(NAME, response), self.poll_interval)
        if result is not None:
            return result
        response = await http.request(NAME, self._client, "GET", url, headers=self._headers)
        try:
            _raise_model_error(response)
            return parse_result(http.json_body(NAME, response))
        except UpstreamError as error:
            if error.retryable:
                raise  # the result may be readable on the next poll
            return PollResult("failed", error=error)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        """Download the output now; it is a CDN link (fal.media), so our key is not sent along."""
        if not result.output_urls:
            raise UpstreamError(f"fal gave no output URL for {upstream_id}", retryable=True, code="upstream_malformed")
        await http.download(NAME, self._client, result.output_urls[0], destination)

    async def cancel(self, upstream_id: str) -> None:
        """``PUT …/cancel``; fal only cancels requests still in the queue, so a refusal is ignored."""
        url = f"{self._base_url}/{upstream_id}/cancel"
        response = await http.request(NAME, self._client, "PUT", url, headers=self._headers)
        if response.status_code not in (400, 404):  # 400: already running or done
            http.check_response(NAME, response)


def _raise_model_error(response: httpx.Response) -> None:
    if response.status_code == 422:
        error = model_error(response)
        if error is not None:
            raise error
