"""What a job asks for and how far each of its runs has got: typed, versioned, stored as JSON.

The service writes a ``JobSpec`` when it accepts a job; the store keeps it in the ``request`` column;
the workers and the relay read it back typed. Each run (``n`` emulated = n runs) is a ``RunRecord``
in the ``runs`` column, rewritten the moment anything durable happens (a submit key, an upstream id,
an upstream result, an output). Rows written before these models existed (no ``version``) load with
the defaults; unknown keys are kept, so a newer writer's fields survive an older reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

SPEC_VERSION = 1

Mode = Literal["t2v", "i2v", "v2v"]
Operation = Literal["generate", "edit", "extend"]
RunPhase = Literal["pending", "running", "succeeded", "failed"]


@dataclass(frozen=True)
class VideoOutput:
    """One finished video of a job (a job with ``n`` > 1 has several)."""

    index: int
    key: str
    width: int
    height: int
    seconds: float
    has_audio: bool
    bytes: int
    thumbnail_key: str | None = None
    spritesheet_key: str | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


class _Stored(BaseModel):
    model_config = ConfigDict(extra="allow", validate_assignment=False)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Target(_Stored):
    """One place the job may run, in routing order (fallback tries the next)."""

    provider: str
    model: str


class JobInputs(_Stored):
    """Storage keys of the job's inputs (``jobs.layout``)."""

    image: str | None = None  # the first frame (image-to-video)
    references: list[str] = Field(default_factory=list)  # every image (reference-to-video)
    video: str | None = None


class JobSpec(_Stored):
    """The normalized request as the workers run it."""

    version: int = SPEC_VERSION
    targets: list[Target] = Field(default_factory=list)
    operation: Operation = "generate"
    mode: Mode = "t2v"
    prompt: str = ""
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    seed: int | None = None
    n: int = 1
    emulate_n: bool = True
    upstream_model: str | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    upstream_resolution: str | None = None
    audio: bool = True
    passthrough: dict[str, JsonValue] = Field(default_factory=dict)
    inputs: JobInputs = Field(default_factory=JobInputs)
    reference_mode: str | None = None
    input_seconds: float | None = None  # extensions: the length of the video being extended
    omit: list[str] = Field(default_factory=list)  # upstream fields the card says not to send (ProviderJob.omit)
    deadline_seconds: float | None = None  # expire the job if no provider started it by then (billing.deadline)

    @property
    def run_count(self) -> int:
        """How many upstream generations the job needs (``n`` emulated: one per output)."""
        return self.n if self.emulate_n else 1


class RunRecord(_Stored):
    """One upstream generation of a job, as durable as the row it lives in."""

    index: int
    provider: str | None = None
    model: str | None = None
    submit_key: str | None = None  # stored BEFORE the submit; resent if a crash makes us submit again
    upstream_id: str | None = None  # stored the moment the provider answers; recovery polls it
    submitted_at: float | None = None
    phase: RunPhase = "pending"
    progress: float | None = None
    output_urls: list[str] = Field(default_factory=list)  # where a finished run's media can be fetched
    poll_errors: int = 0  # transient poll failures in a row (backoff)
    reported_cost_usd: float | None = None  # what the provider said this generation cost (xAI's usage)
    outputs: list[VideoOutput] = Field(default_factory=list)

    def reset(self) -> None:
        """Forget the upstream generation: the run is submitted afresh, under a new key (an
        idempotent upstream would otherwise replay the failure)."""
        self.upstream_id = None
        self.submit_key = None
        self.submitted_at = None
        self.phase = "pending"
        self.progress = None
        self.output_urls = []
        self.poll_errors = 0


def load_runs(raw: list[Any] | None, count: int) -> list[RunRecord]:
    """The stored runs, or ``count`` fresh ones for a job that has not started."""
    runs = [RunRecord.model_validate(item) for item in raw or []]
    return runs or [RunRecord(index=i) for i in range(count)]


def dump_runs(runs: list[RunRecord]) -> list[dict[str, Any]]:
    return [run.to_json() for run in runs]


__all__ = ["JobInputs", "JobSpec", "RunRecord", "Target", "VideoOutput", "dump_runs", "load_runs"]
