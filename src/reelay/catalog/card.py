"""The model card: everything Reelay knows about one model, as validated data.

A card is loaded from one TOML file in ``catalog/cards/`` (or an operator's extra directory). Code
never branches on a model id: a model's differences (sizes, durations, how each parameter reaches the
provider) live here. Validation runs at load time, so a bad card fails the start-up, not a request.
This module holds the data models and the small lookups on them; matching a request against a card
lives in ``reelay.normalize``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["t2v", "i2v", "v2v"]
Behaviour = Literal["passthrough", "renamed", "converted", "emulated"]

# Parameters whose behaviour every card must state, because every request can carry them.
REQUIRED_PARAMS: tuple[str, ...] = ("prompt", "seconds", "size", "aspect_ratio", "resolution", "n")
# Parameters a card must state only when it supports the mode that sends them.
MODE_PARAMS: dict[Mode, str] = {"i2v": "input_reference", "v2v": "input_video"}

_CARD_SIZE = re.compile(r"^([1-9][0-9]*)x([1-9][0-9]*)$")
_CARD_RATIO = re.compile(r"^([1-9][0-9]*):([1-9][0-9]*)$")
# A tier size may differ from its nominal ratio by rounding (1365x768 for 16:9); 1 % catches typos.
_RATIO_TOLERANCE = 0.01


def parse_card_size(text: str) -> tuple[int, int]:
    """Parse a card's ``"WxH"`` size (strict: cards are written by people who can follow a format)."""
    match = _CARD_SIZE.match(text)
    if match is None:
        raise ValueError(f"size {text!r} is not 'WIDTHxHEIGHT' (e.g. '1280x720')")
    return int(match.group(1)), int(match.group(2))


def parse_card_ratio(text: str) -> float:
    """Parse a card's ``"W:H"`` aspect ratio into width / height."""
    match = _CARD_RATIO.match(text)
    if match is None:
        raise ValueError(f"aspect ratio {text!r} is not 'W:H' (e.g. '16:9')")
    return int(match.group(1)) / int(match.group(2))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomSize(_Frozen):
    """Bounds for models that render any size: a ``WxH`` inside them is used as sent (rounded)."""

    max_long_side: int = Field(gt=0)
    max_short_side: int = Field(gt=0)
    min_side: int = Field(gt=0)
    multiple_of: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _bounds_ordered(self) -> Self:
        if not self.min_side <= self.max_short_side <= self.max_long_side:
            raise ValueError("custom_size needs min_side <= max_short_side <= max_long_side")
        if self.multiple_of > self.min_side:
            raise ValueError("custom_size.multiple_of must not exceed min_side")
        return self


class DurationRule(_Frozen):
    """Allowed output lengths in seconds: ``min``, ``min + step``, … up to ``max``."""

    min: float = Field(gt=0)
    max: float = Field(gt=0)
    step: float = Field(gt=0)
    default: float = Field(gt=0)

    @model_validator(mode="after")
    def _default_in_range(self) -> Self:
        if not self.min <= self.default <= self.max:
            raise ValueError("durations needs min <= default <= max")
        return self


class InputRules(_Frozen):
    """What the provider documents about input media, so Reelay converts or refuses at create.

    ``image_types``: MIME types sent as they are; any other image is re-encoded to the first one.
    ``image_delivery``: ``inline`` (a data URI or inline bytes) or ``hosted`` (a URL the provider
    fetches; Luma takes nothing else). ``max_inline_image_bytes``: above it an image is hosted.
    ``video_containers`` / ``video_codecs``: what an input video must be; anything else becomes an
    H.264 MP4. Empty lists mean "no rule of its own".
    """

    image_types: list[str] = Field(default_factory=lambda: ["image/png", "image/jpeg", "image/webp"])
    image_delivery: Literal["inline", "hosted"] = "inline"
    max_inline_image_bytes: int | None = Field(default=None, gt=0)
    video_containers: list[Literal["mp4", "mov", "webm"]] = Field(default_factory=list)
    video_codecs: list[str] = Field(default_factory=list)
    max_inline_video_bytes: int | None = Field(default=None, gt=0)
    # Where each rule comes from (a doc line, quoted or paraphrased): shown in docs and reports.
    source: str = ""

    @model_validator(mode="after")
    def _types_known(self) -> Self:
        if not self.image_types or any(not t.startswith("image/") for t in self.image_types):
            raise ValueError("inputs.image_types needs at least one image/* MIME type")
        return self


class ExtensionRules(_Frozen):
    """Extensions (continue a video): the ADDED seconds, and how long the input may be."""

    durations: DurationRule
    min_input_seconds: float = Field(default=0.0, ge=0)
    max_input_seconds: float | None = Field(default=None, gt=0)


EngineMode = Literal["t2v", "i2v", "v2v", "extend"]
ArgumentValue = float | int | str | bool


class DiffusionSpec(_Frozen):
    """How Reelay's diffusers engine runs a model (cards with ``provider = "diffusers"``).

    Everything that differs between model families is data here: the pipeline class per mode, the
    frame grid (Wan renders 4k+1 frames, LTX 8k+1), the sampling defaults, extra call arguments, and
    whether the soundtrack comes from the model or from Reelay's procedural bed.
    """

    pipelines: dict[EngineMode, str] = Field(min_length=1)
    frame_step: int = Field(ge=1)
    max_frames: int = Field(gt=1)
    steps: int = Field(default=50, ge=1, le=1000)
    guidance_scale: float = Field(default=5.0, ge=0)
    negative_prompt: str = ""
    audio: Literal["model", "procedural"] = "procedural"
    audio_sample_rate: int = Field(default=24_000, gt=0)
    # Extra keyword arguments of the pipeline call, per mode (e.g. v2v ``strength``).
    arguments: dict[EngineMode, dict[str, ArgumentValue]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _frames_on_grid(self) -> Self:
        if (self.max_frames - 1) % self.frame_step:
            raise ValueError(f"engine.max_frames {self.max_frames} is not {self.frame_step}k+1")
        return self

    def frames_for(self, seconds: float, fps: int) -> int:
        """The valid frame count nearest ``seconds`` at ``fps``: ``frame_step``·k + 1, within the limits."""
        wanted = max(1.0, seconds * fps)
        k = round((wanted - 1) / self.frame_step)
        k = max(1, min(k, (self.max_frames - 1) // self.frame_step))
        return k * self.frame_step + 1


class ParamRule(_Frozen):
    """How one request parameter reaches the provider (the badge shown in reports and /v1/models)."""

    behaviour: Behaviour
    upstream: str | None = None
    note: str = ""


class BillingRules(_Frozen):
    """What the provider bills when a generation does not simply succeed (docs/billing.md).

    A success is billed at the provider's reported cost, else at the card's price x seconds delivered.
    A job that never reached the provider, an upstream server error and Reelay's own failure are never
    charged; these flags cover the rest, and ``source`` says where the provider documents it.
    """

    failed: bool = False  # a generation the provider accepted and then failed (not a server error)
    moderated: bool = False  # refused under the provider's content policy after it was submitted
    cancelled_running: bool = True  # cancelled after the provider started it
    reports_cost: bool = False  # the provider returns what it billed on the finished job
    source: str = ""
    note: str = ""


class ModelCard(_Frozen):
    """One model's capabilities and parameter mapping. Immutable once loaded."""

    id: str = Field(min_length=1)
    display_name: str
    description: str
    owned_by: str
    kind: Literal["procedural", "learned"]
    provider: str
    upstream_model: str
    aliases: list[str] = Field(default_factory=list)
    modes: list[Mode] = Field(min_length=1)
    aspect_ratios: list[str] = Field(min_length=1)
    default_aspect_ratio: str
    tiers: dict[str, dict[str, str]] = Field(min_length=1)
    default_tier: str
    # What the provider calls each tier in its own ``resolution`` field; a tier not listed is sent as is.
    tier_upstream: dict[str, str] = Field(default_factory=dict)
    custom_size: CustomSize | None = None
    durations: DurationRule
    fps: int = Field(default=24, gt=0)
    native_n: int = Field(default=1, ge=1)
    max_n: int = Field(default=4, ge=1)
    audio: bool = False
    max_prompt_chars: int = Field(gt=0)
    max_reference_images: int = Field(default=0, ge=0)
    # True when images can guide the video as references (identity, style, scene) rather than be its
    # first frame: several input_reference images, or reference_mode = "references", go this way.
    reference_to_video: bool = False
    # Longest output when images are used as references (xAI: 10 s); None means the durations rule.
    max_reference_seconds: float | None = Field(default=None, gt=0)
    inputs: InputRules = Field(default_factory=InputRules)
    # Set when the model extends videos with its own rules; None: the durations rule, any input.
    extension: ExtensionRules | None = None
    # Upstream field names the adapter must not send, per mode ("all" for every mode), because the
    # provider's schema does not declare them (fal Kling: resolution) or refuses them (Veo 3.0).
    omit_fields: dict[Literal["all", "t2v", "i2v", "v2v"], list[str]] = Field(default_factory=dict)
    # Longest input video the model accepts for v2v; None means no limit of its own.
    max_input_video_seconds: float | None = Field(default=None, gt=0)
    # True when a v2v output keeps the input's duration and geometry (seconds/size are then ignored).
    v2v_follows_input: bool = False
    price_per_second: float = Field(ge=0)
    price_per_second_by_tier: dict[str, float] = Field(default_factory=dict)
    params: dict[str, ParamRule] = Field(default_factory=dict)
    engine: DiffusionSpec | None = None
    billing: BillingRules = Field(default_factory=BillingRules)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        self._check_ratios()
        self._check_tiers()
        self._check_params()
        self._check_engine()
        return self

    def _check_engine(self) -> None:
        if self.engine is None:
            return
        missing = [mode for mode in self.modes if mode not in self.engine.pipelines]
        if missing:
            raise ValueError(f"engine.pipelines has no pipeline for modes {missing}")

    def _check_ratios(self) -> None:
        for ratio in self.aspect_ratios:
            parse_card_ratio(ratio)
        if len(set(self.aspect_ratios)) != len(self.aspect_ratios):
            raise ValueError("aspect_ratios lists a ratio twice")
        if self.default_aspect_ratio not in self.aspect_ratios:
            raise ValueError(f"default_aspect_ratio {self.default_aspect_ratio!r} is not in aspect_ratios")

    def _check_tiers(self) -> None:
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not one of the tiers {list(self.tiers)}")
        for tier, sizes in self.tiers.items():
            unknown = set(sizes) - set(self.aspect_ratios)
            if unknown:
                raise ValueError(f"tier {tier!r} has ratios not in aspect_ratios: {sorted(unknown)}")
            missing = set(self.aspect_ratios) - set(sizes)
            if missing:
                raise ValueError(f"tier {tier!r} has no size for ratios {sorted(missing)}")
            for ratio, size in sizes.items():
                width, height = parse_card_size(size)
                drift = abs(math.log(width / height) - math.log(parse_card_ratio(ratio)))
                if drift > _RATIO_TOLERANCE:
                    raise ValueError(f"tier {tier!r}: size {size} is not {ratio}")
        for name in (*self.tier_upstream, *self.price_per_second_by_tier):
            if name not in self.tiers:
                raise ValueError(f"{name!r} in tier_upstream/price_per_second_by_tier is not a tier")

    def _check_params(self) -> None:
        needed = [*REQUIRED_PARAMS, *(MODE_PARAMS[m] for m in self.modes if m in MODE_PARAMS)]
        missing = [name for name in needed if name not in self.params]
        if missing:
            raise ValueError(f"params has no rule for {missing}")
        if self.max_n < self.native_n:
            raise ValueError("max_n must be at least native_n")
        if "i2v" in self.modes and self.max_reference_images < 1:
            raise ValueError("a card with mode i2v needs max_reference_images >= 1")
        if self.max_reference_images > 1 and not self.reference_to_video:
            raise ValueError("several reference images only make sense with reference_to_video = true")
        if self.reference_to_video and "reference_images" not in self.params:
            raise ValueError("a card with reference_to_video needs a params.reference_images rule")
        if self.max_reference_seconds is not None and not self.reference_to_video:
            raise ValueError("max_reference_seconds needs reference_to_video = true")
        if self.extension is not None and "v2v" not in self.modes:
            raise ValueError("an [extension] section needs mode v2v")

    # -- lookups -------------------------------------------------------------------------------

    def size_for(self, tier: str, ratio: str) -> tuple[int, int]:
        """The (width, height) this model renders for a tier and a supported ratio."""
        return parse_card_size(self.tiers[tier][ratio])

    def ratio_value(self, ratio: str) -> float:
        """A supported ratio label as width / height."""
        return parse_card_ratio(ratio)

    def price_for(self, tier: str) -> float:
        """USD per generated second at ``tier``."""
        return self.price_per_second_by_tier.get(tier, self.price_per_second)

    def omitted(self, mode: Mode) -> frozenset[str]:
        """Upstream fields not to send for ``mode`` (the card's ``omit_fields``)."""
        return frozenset((*self.omit_fields.get("all", ()), *self.omit_fields.get(mode, ())))

    def upstream_resolution(self, tier: str) -> str:
        """What the provider calls ``tier`` (e.g. xAI renders Reelay's "1K" as "720p")."""
        return self.tier_upstream.get(tier, tier)

    def capabilities(self) -> dict[str, Any]:
        """A JSON-ready summary for ``GET /v1/models``: what a client may ask of this model."""
        return {
            "kind": self.kind,
            "provider": self.provider,
            "modes": list(self.modes),
            "aspect_ratios": list(self.aspect_ratios),
            "default_aspect_ratio": self.default_aspect_ratio,
            "resolutions": list(self.tiers),
            "default_resolution": self.default_tier,
            "sizes": {tier: dict(sizes) for tier, sizes in self.tiers.items()},
            "custom_size": self.custom_size.model_dump() if self.custom_size else None,
            "seconds": self.durations.model_dump(),
            "fps": self.fps,
            "n": {"max": self.max_n, "native": self.native_n, "emulated": self.native_n < self.max_n},
            "audio": self.audio,
            "max_prompt_chars": self.max_prompt_chars,
            "max_reference_images": self.max_reference_images,
            "reference_to_video": self.reference_to_video,
            "max_reference_seconds": self.max_reference_seconds,
            "inputs": self.inputs.model_dump(exclude={"source"}),
            "extension": self.extension.model_dump() if self.extension else None,
            "pricing": {
                "currency": "USD",
                "per_second": self.price_per_second,
                "per_second_by_resolution": dict(self.price_per_second_by_tier),
                "billing": self.billing.model_dump(),
            },
            "params": {name: rule.model_dump() for name, rule in self.params.items()},
            "frames": self._frame_grid(),
            "audio_source": self.engine.audio if self.engine else None,
        }

    def _frame_grid(self) -> dict[str, int] | None:
        """The valid frame counts of an engine model: ``step``·k + 1 up to ``max``."""
        if self.engine is None:
            return None
        return {"step": self.engine.frame_step, "offset": 1, "max": self.engine.max_frames}
