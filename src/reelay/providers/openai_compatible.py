"""Any server that speaks the OpenAI Videos API: self-hosted vLLM-Omni, hosted gateways, another Reelay.

Wire format followed:
- https://developers.openai.com/api/reference/resources/videos.md — ``POST /videos`` fields
  (``prompt``, ``model``, ``seconds`` as a string, ``size`` "WxH", ``input_reference`` file), the video
  object (``queued|in_progress|completed|failed``, ``progress``, ``error{code,message}``),
  ``GET /videos/{id}/content`` and ``DELETE /videos/{id}``.
- github.com/openai/openai-python ``src/openai/resources/videos.py`` — multipart bodies, and the
  ``openai-poll-after-ms`` response header a poller should honour.
- vLLM-Omni ``docs/serving/videos_api.md`` and ``vllm_omni/entrypoints/openai/api_server.py`` —
  multipart ONLY (a JSON body is refused), ``input_reference`` carries an image or, for
  video-to-video, a video file; a failed job's ``GET`` answers with the failure's HTTP status and the
  video object as body; DELETE of a running job may answer 409 while it aborts.

Operations: ``generate`` and ``edit`` are both a create with the input file (edit = create with the
input video, as vLLM-Omni does video-to-video). ``extend`` is refused with ``unsupported_operation``:
OpenAI's extension takes ``{video: {id}}`` of a video stored on that server, which an external server
cannot have, and no multipart variant is specified anywhere.

Every submit carries ``Idempotency-Key`` (the run's key, stored before the POST). Reelay honours
it (per API key); a server that ignores it is no worse off, and one that honours it turns the
resubmission after a worker crash (provider accepted, id not yet stored) into a replay of the same
video instead of a second generation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import httpx

from reelay.errors import UpstreamError
from reelay.providers import http
from reelay.providers.base import PollResult, ProviderJob, RunState
from reelay.providers.failures import job_failure
from reelay.providers.remote_inputs import media_type

NAME: Final = "openai_compatible"
POLL_AFTER_HEADER: Final = "openai-poll-after-ms"
MultipartItem = tuple[str, tuple[str | None, bytes | str] | tuple[str | None, bytes | str, str]]


def api_root(base_url: str) -> str:
    """``http://host:8091`` from either that or ``http://host:8091/v1`` (how OpenAI clients are set up)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


# -- request mapping (pure) ------------------------------------------------------------------------


def form_fields(job: ProviderJob) -> list[tuple[str, str]]:
    """The create request's text fields; passthrough values that are not strings are sent as JSON."""
    if job.operation == "extend":
        raise UpstreamError(
            "OpenAI-compatible servers do not support extensions through Reelay (OpenAI's extension takes "
            "the id of a video stored on that server); route extensions to a provider that has them",
            retryable=False,
            code="unsupported_operation",
        )
    fields = [("prompt", job.prompt)]
    if job.model:
        fields.append(("model", job.model))
    # OpenAI and vLLM-Omni take whole seconds as a string.
    fields += [("seconds", str(max(1, round(job.seconds)))), ("size", f"{job.width}x{job.height}")]
    if job.seed is not None:
        fields.append(("seed", str(job.seed)))
    fields += [(key, _form_value(value)) for key, value in job.passthrough.items()]
    return fields


def _form_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def input_file(job: ProviderJob, video_field: str) -> tuple[str, Path, str] | None:
    """(form field, path, mime) of the file to upload: the image for i2v, the video for v2v and edits."""
    if job.mode == "v2v" or job.operation == "edit":
        if job.video_path is None:
            raise UpstreamError("this video-to-video job has no input video", code="input_missing")
        return video_field, job.video_path, media_type(job.video_path)
    if job.mode == "i2v":
        if job.image_path is None:
            raise UpstreamError("this image-to-video job has no input image", code="input_missing")
        return "input_reference", job.image_path, media_type(job.image_path)
    return None


def multipart(job: ProviderJob, video_field: str) -> list[MultipartItem]:
    """Everything as multipart parts (vLLM-Omni refuses JSON, even for text-only requests)."""
    items: list[MultipartItem] = [(key, (None, value)) for key, value in form_fields(job)]
    upload = input_file(job, video_field)
    if upload is not None:
        field, path, mime = upload
        items.append((field, (path.name, path.read_bytes(), mime)))
    return items


# -- response mapping (pure) -----------------------------------------------------------------------


def parse_created(label: str, data: Mapping[str, Any]) -> str:
    video_id = data.get("id")
    if not isinstance(video_id, str) or not video_id:
        raise UpstreamError(
            f"{label} accepted the request but sent no video id", retryable=True, code="upstream_malformed"
        )
    return video_id


def poll_after(headers: Mapping[str, str], default: float) -> float:
    """The server's requested pause (``openai-poll-after-ms``), bounded to 0.05-60 s."""
    try:
        return min(60.0, max(0.05, float(headers[POLL_AFTER_HEADER]) / 1000.0))
    except (KeyError, ValueError):
        return default


def parse_video(label: str, data: Mapping[str, Any], content_url: str, wait: float) -> PollResult:
    """One video object as a ``PollResult``; ``completed`` output is fetched from ``content_url``."""
    status = data.get("status")
    if status == "completed":
        return PollResult("succeeded", progress=1.0, output_urls=(content_url,))
    if status == "failed":
        error = data.get("error") if isinstance(data.get("error"), dict) else None
        code, message = (error.get("code"), error.get("message")) if error else (None, None)
        return PollResult("failed", error=job_failure(label, code, message))
    if status == "cancelled":  # another Reelay: the job was cancelled there
        return PollResult("failed", error=UpstreamError(f"{label} cancelled the job", code="upstream_cancelled"))
    progress = data.get("progress")
    fraction = min(1.0, max(0.0, progress / 100.0)) if isinstance(progress, int | float) else None
    state: RunState = "running" if status == "in_progress" else "pending"
    return PollResult(state, progress=fraction, poll_after=wait)


def _failed_video(response: httpx.Response) -> dict[str, Any] | None:
    """vLLM-Omni answers GET of a failed job with the failure's HTTP status and the video as body."""
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("object") == "video" and data.get("status") == "failed":
        return data
    return None


# -- the provider (thin async I/O) -----------------------------------------------------------------


class OpenAICompatibleProvider:
    """The worker's view of an OpenAI Videos API server. Resumable: video ids live on that server."""

    name = NAME
    resumable = True
    poll_interval = 2.0  # used when the server sends no openai-poll-after-ms

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        client: httpx.AsyncClient,
        poll_interval: float | None = None,
        video_field: str = "input_reference",
    ) -> None:
        """``video_field``: where a v2v input video goes — ``input_reference`` (vLLM-Omni) or
        ``input_video`` (another Reelay)."""
        self._root = api_root(base_url)
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._label = f"the OpenAI-compatible server at {self._root}"
        self._video_field = video_field
        if poll_interval is not None:
            self.poll_interval = poll_interval

    def _url(self, video_id: str = "", suffix: str = "") -> str:
        return f"{self._root}/v1/videos" + (f"/{video_id}" if video_id else "") + suffix

    async def submit(self, job: ProviderJob) -> str:
        items = await asyncio.to_thread(multipart, job, self._video_field)
        headers = dict(self._headers)
        if job.idempotency_key:  # a resubmission after a crash gets the first submission's video back
            headers["Idempotency-Key"] = job.idempotency_key
        response = await http.request(self._label, self._client, "POST", self._url(), files=items, headers=headers)
        return parse_created(self._label, http.json_body(self._label, response))

    async def poll(self, upstream_id: str) -> PollResult:
        url = self._url(upstream_id)
        response = await http.request(self._label, self._client, "GET", url, headers=self._headers)
        failed = None if response.is_success else _failed_video(response)
        data = failed if failed is not None else http.json_body(self._label, response)
        wait = poll_after(response.headers, self.poll_interval)
        return parse_video(self._label, data, self._url(upstream_id, "/content"), wait)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        url = result.output_urls[0] if result.output_urls else self._url(upstream_id, "/content")
        await http.download(self._label, self._client, url, destination, headers=self._headers)

    async def cancel(self, upstream_id: str) -> None:
        """DELETE the video upstream (cancels it there); gone (404) or still aborting (409) is fine."""
        url = self._url(upstream_id)
        response = await http.request(self._label, self._client, "DELETE", url, headers=self._headers)
        if response.status_code not in (404, 409):
            http.check_response(self._label, response)
