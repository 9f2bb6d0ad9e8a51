"""The wire contract: OpenAI's video object plus the gateway extras, as pydantic models.

These models are what ``/openapi.json`` documents and what every response is built from, so the
schema and the behaviour cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class VideoError(BaseModel):
    code: str
    message: str


class VideoResult(BaseModel):
    """One finished video (``n`` > 1 gives several)."""

    index: int
    url: str = Field(description="signed download link; works without an Authorization header until expires_at")
    thumbnail_url: str | None = None
    spritesheet_url: str | None = None
    size: str
    seconds: float
    has_audio: bool
    bytes: int


class VideoOutputObject(BaseModel):
    url: str = Field(description="the first result's signed download link")
    thumbnail_url: str | None = None
    spritesheet_url: str | None = None
    size: str
    seconds: float
    has_audio: bool
    results: list[VideoResult] = Field(description="all n results")


class ReportItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    param: str
    behaviour: str = Field(description="passthrough | renamed | converted | emulated | ignored")
    requested: Any = None
    value: Any = None
    note: str = ""


class VideoCost(BaseModel):
    """What the video costs the key (docs/billing.md): the hold at submit, then what was settled."""

    estimate: float = Field(description="USD held at submit: price per second x seconds x n")
    settled: float | None = Field(description="USD charged once the video ended (0 = refunded); null while held")
    currency: Literal["USD"] = "USD"
    state: Literal["held", "settled", "released"]
    basis: str | None = Field(default=None, description="reported (the provider's figure) | computed | mixed | hold")
    reason: str | None = Field(default=None, description="why it was charged or released")
    if_cancelled: float | None = Field(
        default=None, description="USD a cancel now would cost (0: free, before the provider started); unfinished only"
    )


class VideoMetadata(BaseModel):
    provider: str
    executed_model: str
    normalization: list[ReportItem]
    cost_estimate: float
    cost_currency: Literal["USD"] = "USD"
    n: int
    attempts: int
    stage: str | None = Field(
        default=None, description="unfinished jobs: submit, wait (upstream is generating), render or collect"
    )
    queued_reason: str | None = Field(default=None, description="why a queued job is not submitted yet")
    cost: VideoCost | None = None


class VideoObject(BaseModel):
    id: str
    object: Literal["video"] = "video"
    model: str
    status: Literal["queued", "in_progress", "completed", "failed", "cancelled", "expired"] = Field(
        description="expired: its deadline_seconds passed before a provider started it, or its outputs passed "
        "retention (error.code says which)"
    )
    progress: int
    created_at: int
    completed_at: int | None
    expires_at: int | None
    prompt: str
    size: str
    seconds: str
    remixed_from_video_id: str | None
    error: VideoError | None
    output: VideoOutputObject | None
    metadata: VideoMetadata


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[VideoObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


class ModelObject(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    available: bool = Field(description="a configured provider serves this model on this server")
    served_by: str | None
    capabilities: dict[str, Any]


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


class VideoEstimate(BaseModel):
    """The answer to ``POST /v1/videos?dryRun=true``: what would run and what it would cost."""

    object: Literal["video.estimate"] = "video.estimate"
    estimated: bool = True
    model: str
    provider: str
    executed_model: str
    size: str
    seconds: str
    n: int
    cost_estimate: float
    cost_currency: Literal["USD"] = "USD"
    total_cost_micros: int
    normalization: list[ReportItem]


class CreateVideoBody(BaseModel):
    """``POST /v1/videos`` (JSON or multipart/form-data). Unknown fields pass through to the provider."""

    model_config = ConfigDict(extra="allow")
    prompt: str = Field(description="what to generate (required)")
    model: str | None = Field(default=None, description="model id or alias; default: the local engine")
    seconds: str | float | None = Field(default=None, description="duration; `duration` is accepted too")
    size: str | None = Field(default=None, description="`WxH`, `W:H` or `auto`; wins over aspect_ratio/resolution")
    aspect_ratio: str | None = Field(default=None, description="any ratio; mapped to the nearest supported")
    resolution: str | float | None = Field(default=None, description="tier: 480p, 720p, 1K, 0.5K, megapixels…")
    n: int | None = Field(default=None, ge=1, le=4, description="1–4; emulated by parallel runs")
    seed: int | None = None
    input_reference: Any = Field(default=None, description='image: {"image_url": URL or data URI}, a list, or files')
    input_video: Any = Field(default=None, description='video: URL, data URI, {"id": "video_…"} or a file')


class VideoJobBody(BaseModel):
    """``POST /v1/videos/edits`` and ``/extensions`` (JSON or multipart), as the official SDK sends them."""

    model_config = ConfigDict(extra="allow")
    prompt: str
    video: Any = Field(description='the source: an uploaded file, {"id": "video_…"}, a URL or a data URI')
    seconds: str | float | None = Field(default=None, description="extensions: the length of the ADDED part")
    model: str | None = Field(default=None, description="default: the source video's model, else the local engine")


class RemixBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt: str
