"""Parsing what clients send for shape and scale, and finding the nearest thing a model offers.

Pure functions over numbers and strings. Nearness is measured in log space, so a ratio is as far from
2:1 as from 1:2 (7:1 between 4:1 and 8:1 goes to 8:1) and a tier twice too large is as far as one
twice too small. Ties go to the first candidate in the card's order. Parse errors raise
``InvalidRequest`` with the parameter the client used, so the API can point at the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from reelay.catalog import CustomSize, ModelCard
from reelay.errors import InvalidRequest

MAX_SIDE = 16384  # larger than any video model renders; anything beyond is a typo
MAX_MEGAPIXELS = 64.0  # ~8K; a bare "1080" is far more likely a mistyped "1080p"
_MAX_RATIO = 100.0

_SIZE = re.compile(r"^(\d+)x(\d+)$", re.ASCII)
_RATIO = re.compile(r"^(\d+(?:\.\d+)?)[:/](\d+(?:\.\d+)?)$", re.ASCII)
_DECIMAL = re.compile(r"^\d+(?:\.\d+)?$", re.ASCII)
_K_TIER = re.compile(r"^(\d+(?:\.\d+)?)k$", re.ASCII)
_P_TIER = re.compile(r"^(\d+)p$", re.ASCII)

_SIZE_HELP = "Send 'WIDTHxHEIGHT' (e.g. '1280x720'), a ratio such as '16:9', or 'auto'."
_RATIO_HELP = "Send 'W:H' (e.g. '16:9'), 'W/H', a decimal such as '1.78', or 'auto'."
_RESOLUTION_HELP = "Send a tier such as '720p' or '1K', megapixels such as '0.25', or 'auto'."


def is_auto(value: object) -> bool:
    """``None`` and ``"auto"`` both mean: let the model choose."""
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto"))


def is_ratio_text(text: str) -> bool:
    """Whether a ``size`` value is a ratio (``"16:9"``) rather than pixels."""
    return ":" in text or "/" in text


def parse_size(text: object) -> tuple[int, int]:
    """``"1280x720"`` (also ``"1280×720"``, ``"1280X720"``, ``"1280 x 720"``) -> (1280, 720)."""
    if not isinstance(text, str):
        raise InvalidRequest(f"size must be a string, got {text!r}. {_SIZE_HELP}", param="size")
    cleaned = text.strip().lower().replace("×", "x").replace(" ", "")
    match = _SIZE.match(cleaned)
    if match is None:
        raise InvalidRequest(f"size {text!r} is not valid. {_SIZE_HELP}", param="size")
    width, height = int(match.group(1)), int(match.group(2))
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise InvalidRequest(
            f"size {text!r} is not valid: each side must be 1 to {MAX_SIDE} pixels. {_SIZE_HELP}",
            param="size",
        )
    return width, height


def parse_ratio(value: object, *, param: str) -> float:
    """``"16:9"``, ``"16/9"`` or ``"1.78"`` (or a number) -> width / height."""
    ratio: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        ratio = float(value)
    elif isinstance(value, str):
        cleaned = value.strip().replace(" ", "")
        match = _RATIO.match(cleaned)
        if match is not None and float(match.group(2)) > 0:
            ratio = float(match.group(1)) / float(match.group(2))
        elif _DECIMAL.match(cleaned):
            ratio = float(cleaned)
    if ratio is None or not math.isfinite(ratio) or not 1 / _MAX_RATIO <= ratio <= _MAX_RATIO:
        raise InvalidRequest(f"{param} {value!r} is not a usable aspect ratio. {_RATIO_HELP}", param=param)
    return ratio


def parse_resolution(value: object) -> float:
    """A resolution tier as a pixel count: ``"1K"`` = 1024², ``"720p"`` = 720·(16/9)·720, ``0.25`` MP."""
    pixels: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        pixels = _megapixels(float(value))
    elif isinstance(value, str):
        cleaned = value.strip().lower().replace(" ", "")
        if match := _K_TIER.match(cleaned):
            pixels = (float(match.group(1)) * 1024) ** 2
        elif match := _P_TIER.match(cleaned):
            pixels = int(match.group(1)) ** 2 * 16 / 9
        elif cleaned.endswith("mp") and _DECIMAL.match(cleaned[:-2]):
            pixels = _megapixels(float(cleaned[:-2]))
        elif _DECIMAL.match(cleaned):
            pixels = _megapixels(float(cleaned))
    if pixels is None or not math.isfinite(pixels) or pixels < 1:
        raise InvalidRequest(f"resolution {value!r} is not a known tier. {_RESOLUTION_HELP}", param="resolution")
    return pixels


def _megapixels(value: float) -> float | None:
    if not 0 < value <= MAX_MEGAPIXELS:
        return None
    return value * 1_000_000


def log_distance(a: float, b: float) -> float:
    return abs(math.log(a) - math.log(b))


def nearest_ratio(card: ModelCard, ratio: float) -> str:
    """The supported ratio label closest to ``ratio`` (width / height)."""
    return _nearest(card.aspect_ratios, lambda label: log_distance(card.ratio_value(label), ratio))


def nearest_tier(card: ModelCard, ratio_label: str, pixels: float) -> str:
    """The tier whose size at ``ratio_label`` has the area closest to ``pixels``."""

    def distance(tier: str) -> float:
        width, height = card.size_for(tier, ratio_label)
        return log_distance(width * height, pixels)

    return _nearest(card.tiers, distance)


def match_tier_name(card: ModelCard, value: object) -> str | None:
    """A card tier named exactly as sent, ignoring case (``"1k"`` -> ``"1K"``), else None."""
    if not isinstance(value, str):
        return None
    wanted = value.strip().lower()
    return next((tier for tier in card.tiers if tier.lower() == wanted), None)


def fit_custom_size(width: int, height: int, bounds: CustomSize) -> tuple[int, int]:
    """The size to render for a free-size model: as sent when it fits, else scaled to fit.

    A size outside the bounds is scaled (keeping its ratio) until it fits; each side is then rounded
    to ``multiple_of`` and clamped, so the result is always inside the bounds.
    """
    landscape = width >= height
    max_w = bounds.max_long_side if landscape else bounds.max_short_side
    max_h = bounds.max_short_side if landscape else bounds.max_long_side
    scale = min(1.0, max_w / width, max_h / height)
    if min(width, height) * scale < bounds.min_side:
        scale = bounds.min_side / min(width, height)
    return (
        _round_within(width * scale, bounds.min_side, max_w, bounds.multiple_of),
        _round_within(height * scale, bounds.min_side, max_h, bounds.multiple_of),
    )


def _round_within(value: float, low: int, high: int, multiple: int) -> int:
    rounded = math.floor(value / multiple + 0.5) * multiple
    smallest = math.ceil(low / multiple) * multiple
    largest = (high // multiple) * multiple
    return max(smallest, min(largest, rounded))


def _nearest(candidates: Iterable[str], distance: Callable[[str], float]) -> str:
    best: str | None = None
    best_distance = math.inf
    for candidate in candidates:
        d = distance(candidate)
        if d < best_distance - 1e-12:
            best, best_distance = candidate, d
    if best is None:
        raise ValueError("no candidates to choose from")
    return best
