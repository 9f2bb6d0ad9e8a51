"""The output of normalization: one request a provider can run, plus the report for the client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reelay.catalog import Mode
from reelay.normalize.report import ReportEntry

ReferenceMode = Literal["first_frame", "references"]


@dataclass(frozen=True)
class NormalizedRequest:
    """A request checked against one model card; every value is one the model accepts.

    ``width``/``height`` are the size Reelay reports for the output; ``aspect_ratio`` is a supported
    ratio label and ``resolution`` a tier name of the card (``upstream_resolution`` is the provider's
    own name for that tier). ``emulate_n`` means Reelay runs ``n`` single-video requests in parallel.
    """

    model: str
    upstream_model: str
    provider: str
    mode: Mode
    prompt: str
    width: int
    height: int
    aspect_ratio: str
    resolution: str
    upstream_resolution: str
    seconds: float
    n: int
    seed: int | None
    emulate_n: bool
    passthrough: Mapping[str, Any]
    report: tuple[ReportEntry, ...]
    cost_estimate: float  # USD: price per second at this tier x seconds x n
    # How input_reference images are used: the first frame, or references (reference-to-video).
    reference_mode: ReferenceMode | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def report_json(self) -> list[dict[str, Any]]:
        """The report as JSON-ready dicts, for the video object's ``metadata``."""
        return [entry.to_json() for entry in self.report]
