"""The input to normalization: a request's generation fields, exactly as the client sent them.

The API layer parses JSON or multipart into this and probes media for their sizes; normalization
then judges the values against a model card. Keeping the raw values here (strings included) lets
the report show what the client asked for next to what the provider gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GenerationParams:
    """A create request's generation fields, unvalidated. ``extra`` holds fields Reelay does not know."""

    prompt: str
    seconds: str | int | float | None = None
    seconds_field: str = "seconds"  # the name the client used: "seconds" or "duration"
    size: str | None = None
    aspect_ratio: str | None = None
    resolution: str | int | float | None = None
    n: int | str | None = None
    seed: int | str | None = None
    reference_images: int = 0  # how many input_reference images were sent
    reference_size: tuple[int, int] | None = None  # (width, height) of the first reference image
    reference_mode: Any = None  # "auto" (default), "first_frame" or "references"
    input_video: tuple[int, int, float] | None = None  # (width, height, seconds) of the input video
    # An extension: the input video's length; ``seconds`` is then the ADDED part (card [extension]).
    extend_input_seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # passed to the provider untouched
