"""What a request becomes when the local engine renders it: the size it really renders.

In ``--demo`` mode every catalog model is rendered by the local engine, but the request is normalized
against that model's card (veo-3 at 1080x1920, $0.40/s). Without this step the report and the job's
size would describe the card while the file is the engine's (720x1280): two answers for one job.
Applied once, at create time, so the dry run, the stored job, the gallery and the result agree.

The cost estimate stays the card's (what the real model would cost), because demo mode is also how
budgets and limits are tried without a provider; a report row says the render itself was free, and
the playground shows it as "free (… would cost $x)".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reelay.normalize.report import ReportEntry
from reelay.normalize.request import NormalizedRequest
from reelay.providers.local import MAX_LONG_SIDE, MAX_SHORT_SIDE, fit_to_engine

LOCAL_PROVIDER = "local"


def as_local_preview(normalized: NormalizedRequest) -> NormalizedRequest:
    width, height = fit_to_engine(normalized.width, normalized.height)
    report = normalized.report
    if (width, height) != (normalized.width, normalized.height):
        size = f"{width}x{height}"
        note = (
            f"the local engine renders at most {MAX_LONG_SIDE}x{MAX_SHORT_SIDE} (or {MAX_SHORT_SIDE}x{MAX_LONG_SIDE}): "
            f"{normalized.size} becomes {size}, same ratio"
        )
        report = tuple(_resized(entry, size, note) if entry.param == "size" else entry for entry in report)
        if not any(entry.param == "size" for entry in report):
            report += (ReportEntry("size", "converted", normalized.size, size, note),)
    if normalized.cost_estimate:
        note = (
            f"demo: rendered free by the local engine (a procedural preview); the estimate is what "
            f"{normalized.model} itself would cost"
        )
        report += (ReportEntry("cost", "emulated", normalized.cost_estimate, normalized.cost_estimate, note),)
    return replace(normalized, width=width, height=height, report=report)


def _resized(entry: ReportEntry, size: str, note: str) -> ReportEntry:
    value: Any = entry.value
    if isinstance(value, dict) and "size" in value:
        value = {**value, "size": size}
    elif isinstance(value, str):
        value = size
    return replace(entry, behaviour="converted", value=value, note=f"{entry.note}; {note}" if entry.note else note)
