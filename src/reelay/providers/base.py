"""The one small protocol every provider implements: submit, poll, fetch the output, cancel.

A provider speaks one wire format and nothing else: routing, retries, storage and billing live in
the worker. Provider errors are ``reelay.errors.UpstreamError`` with ``retryable`` set honestly;
anything the upstream says is mapped to that inside the adapter, nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from reelay.errors import UpstreamError

Mode = Literal["t2v", "i2v", "v2v"]
# generate: text/image/video to video (POST /v1/videos); edit: change an existing video with a prompt
# (POST /v1/videos/edits, remix, input_video); extend: continue a video from its last frame and return
# the joined clip (POST /v1/videos/extensions; ``seconds`` is then the length of the ADDED part).
Operation = Literal["generate", "edit", "extend"]
RunState = Literal["pending", "running", "succeeded", "failed"]


@dataclass(frozen=True)
class ProviderJob:
    """One generation as a provider receives it (a job with ``n`` > 1 emulated is n of these)."""

    video_id: str
    index: int
    model: str
    mode: Mode
    prompt: str
    width: int
    height: int
    seconds: float
    seed: int | None
    audio: bool = True
    image_path: Path | None = None  # the first frame (image-to-video)
    video_path: Path | None = None
    # Reference-to-video: images that guide identity, style and scene (never the first frame).
    reference_paths: tuple[Path, ...] = ()
    n: int = 1
    passthrough: Mapping[str, Any] = field(default_factory=dict)
    operation: Operation = "generate"
    aspect_ratio: str | None = None  # the card's ratio label, e.g. "16:9" (for upstreams that take ratios)
    resolution: str | None = None  # the provider's own tier name, e.g. "720p" (card tier_upstream)
    # Stored before the submit and sent again if a crash makes Reelay submit this run a second time;
    # an upstream that honours ``Idempotency-Key`` then answers with the same generation.
    idempotency_key: str | None = None
    # Upstream field names this model's card says not to send (its ``omit_fields`` for this mode):
    # fields the provider's schema does not declare or refuses. Filled by the worker from the job.
    omit: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PollResult:
    state: RunState
    progress: float | None = None  # 0..1 when the provider reports it
    error: UpstreamError | None = None
    output_urls: tuple[str, ...] = ()  # where the finished media can be fetched (remote providers)
    poll_after: float = 1.0  # seconds the provider asks us to wait before polling again
    reported_cost_usd: float | None = None  # the provider's own figure for what it billed (xAI's usage)

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")


class Provider(Protocol):
    """What the worker needs from an upstream."""

    name: str
    resumable: bool  # True if ``poll`` works for an id submitted before a process restart

    async def submit(self, job: ProviderJob) -> str:
        """Start the generation and return the provider's request id. Must not wait for the result."""
        ...

    async def poll(self, upstream_id: str) -> PollResult: ...

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        """Write the finished MP4 to ``destination`` (upstream URLs are temporary: download now)."""
        ...

    async def cancel(self, upstream_id: str) -> None:
        """Stop the generation where the upstream allows it; a no-op otherwise."""
        ...
