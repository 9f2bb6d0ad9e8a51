"""Luma's Dream Machine API (``LUMAAI_API_KEY``): create a generation, poll it, download ``assets.video``.

Wire format followed (read 2026):
- https://docs.lumalabs.ai/docs/api and https://docs.lumalabs.ai/docs/video-generation — base
  ``https://api.lumalabs.ai/dream-machine/v1``, ``Authorization: Bearer <key>``; ``POST /generations/video``
  (``prompt``, ``model`` ray-2 | ray-flash-2, ``aspect_ratio``, ``resolution`` 540p | 720p | 1080p | 4k,
  ``duration`` "5s" | "9s", ``loop``, ``keyframes.frame0/frame1`` as ``{type: "image", url}`` or
  ``{type: "generation", id}``); ``GET /generations/{id}``; ``DELETE /generations/{id}``.
- lumaai (PyPI, 1.21) ``types/generation_create_params.py`` and ``types/generation.py`` — the same fields;
  the generation object ``{id, state: queued | dreaming | completed | failed, failure_reason, assets.video}``.
- github.com/lumalabs/lumaai-api ``openapi.yaml`` — the state enum and the ``extend_video`` example
  (``keyframes.frame0 = {gen_id}`` / ``{type: "generation", id}``): Luma extends only its own generations.

Operations: ``extend`` needs the Luma id of an earlier Luma generation, which a Reelay job does not carry
(the input is a file), so extend and edit are refused with ``unsupported_operation``.

Input images: Luma's video-generation page says hosted image URLs are "currently the only way to pass an
image" and Luma has no upload API, so the start frame goes as a short-lived signed link to Reelay's own
copy (``providers.hosting``); without one the job is refused at create.

Failure reasons are free text; moderation refusals are recognised by words ("moderation", "not
allowed", "blacklisted" …).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import httpx

from reelay.errors import UpstreamError
from reelay.providers import http
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.failures import content_policy_refusal
from reelay.providers.hosting import InputLinks
from reelay.providers.remote_inputs import (
    as_object,
    looks_like_policy_refusal,
    unsupported,
    whole_seconds,
)

NAME: Final = "luma"
PREFIX: Final = "/dream-machine/v1"
_TRANSIENT_WORDS: Final = ("internal", "try again", "timeout", "timed out", "unavailable")


# -- request mapping (pure apart from reading the job's input image) -------------------------------


def build_request(job: ProviderJob, image_url: str | None = None) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for ``job``; ``image_url`` is the hosted start frame (i2v); passthrough last."""
    if job.operation != "generate" or job.mode == "v2v":
        raise unsupported(
            NAME,
            f"{job.operation} an uploaded video",
            "Luma extends only its own generations (by Luma id); generate from text or an image instead",
        )
    body: dict[str, Any] = {
        "prompt": job.prompt,
        "model": job.model,
        "duration": f"{whole_seconds(job.seconds)}s",
    }
    if job.aspect_ratio:
        body["aspect_ratio"] = job.aspect_ratio
    if job.resolution:
        body["resolution"] = job.resolution
    if job.mode == "i2v":
        if image_url is None:
            raise UpstreamError(
                "luma takes input images only as hosted URLs, and Reelay has no link to give it; set "
                "REELAY_PUBLIC_URL (or use S3 storage)",
                retryable=False,
                code="input_not_hostable",
            )
        body["keyframes"] = {"frame0": {"type": "image", "url": image_url}}
    body.update(job.passthrough)
    return f"{PREFIX}/generations/video", body


# -- response mapping (pure) -----------------------------------------------------------------------


def parse_created(data: dict[str, Any]) -> str:
    generation_id = data.get("id")
    if not isinstance(generation_id, str) or not generation_id:
        raise UpstreamError(
            "luma accepted the request but sent no generation id", retryable=True, code="upstream_malformed"
        )
    return generation_id


def parse_generation(data: dict[str, Any], poll_after: float) -> PollResult:
    """One generation object as a ``PollResult``."""
    state = data.get("state")
    if state == "queued":
        return PollResult("pending", poll_after=poll_after)
    if state == "dreaming":
        return PollResult("running", poll_after=poll_after)
    if state == "completed":
        url = as_object(data.get("assets")).get("video")
        if not isinstance(url, str) or not url:
            error = UpstreamError(
                "luma completed the generation but sent no video URL", retryable=True, code="upstream_malformed"
            )
            return PollResult("failed", error=error)
        return PollResult("succeeded", progress=1.0, output_urls=(url,))
    if state == "failed":
        return PollResult("failed", error=generation_failure(str(data.get("failure_reason") or "")))
    raise UpstreamError(f"luma sent an unknown state {state!r}", retryable=True, code="upstream_malformed")


def generation_failure(reason: str) -> UpstreamError:
    text = reason.strip()[:300] or "no reason given"
    if looks_like_policy_refusal(text):
        return content_policy_refusal(NAME, text)
    transient = any(word in text.lower() for word in _TRANSIENT_WORDS)
    return UpstreamError(f"luma failed the generation: {text}", retryable=transient, code="upstream_failed")


# -- the provider (thin async I/O) -----------------------------------------------------------------


class LumaProvider:
    """The worker's view of Luma. Resumable: a stored generation id is polled after a restart."""

    name = NAME
    resumable = True
    poll_interval = 3.0  # Luma's own examples poll every 3 s

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        client: httpx.AsyncClient,
        poll_interval: float | None = None,
        links: InputLinks | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._links = links
        if poll_interval is not None:
            self.poll_interval = poll_interval

    async def submit(self, job: ProviderJob) -> str:
        image_url = None
        if job.mode == "i2v" and job.image_path is not None and self._links is not None:
            image_url = self._links.url_for(job.image_path)  # Luma fetches the start frame itself
        path, body = build_request(job, image_url)
        response = await http.request(
            NAME, self._client, "POST", self._base_url + path, json=body, headers=self._headers
        )
        return parse_created(http.json_body(NAME, response))

    async def poll(self, upstream_id: str) -> PollResult:
        url = f"{self._base_url}{PREFIX}/generations/{upstream_id}"
        response = await http.request(NAME, self._client, "GET", url, headers=self._headers)
        return parse_generation(http.json_body(NAME, response), self.poll_interval)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        """Download ``assets.video`` now; it is a CDN link, so our key is not sent along."""
        if not result.output_urls:
            raise UpstreamError(f"luma gave no video URL for {upstream_id}", retryable=True, code="upstream_malformed")
        await http.download(NAME, self._client, result.output_urls[0], destination)

    async def cancel(self, upstream_id: str) -> None:
        """``DELETE /generations/{id}``: Luma's only way to stop a generation (it also deletes it)."""
        url = f"{self._base_url}{PREFIX}/generations/{upstream_id}"
        response = await http.request(NAME, self._client, "DELETE", url, headers=self._headers)
        if response.status_code != 404:
            http.check_response(NAME, response)
