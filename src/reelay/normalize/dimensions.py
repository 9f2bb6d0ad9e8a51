"""Choosing the output's shape and scale from ``size``, ``aspect_ratio`` and ``resolution``.

Precedence, as on the hosted gateways: a ``WxH`` size decides both shape and scale (``aspect_ratio``
and ``resolution`` are then ignored); a ``W:H`` size is an aspect ratio (and beats ``aspect_ratio``);
``aspect_ratio`` sets shape and ``resolution`` sets scale independently. Whatever is missing or
``auto`` the model chooses: the shape of the input image or video, else the card's default ratio; the
tier nearest the input video's pixel count for v2v, else the card's default tier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from reelay.catalog import Mode, ModelCard
from reelay.normalize.geometry import (
    fit_custom_size,
    is_auto,
    is_ratio_text,
    log_distance,
    match_tier_name,
    nearest_ratio,
    nearest_tier,
    parse_ratio,
    parse_resolution,
    parse_size,
)
from reelay.normalize.params import GenerationParams
from reelay.normalize.report import ReportEntry, entry_for, ignored

SIZE_WINS = "size takes precedence"
FOLLOWS_INPUT = "the output keeps the input video's shape and size"


@dataclass(frozen=True)
class Dimensions:
    """The chosen output geometry and the report entries that explain it."""

    width: int
    height: int
    ratio: str
    tier: str
    entries: tuple[ReportEntry, ...]


def choose_dimensions(params: GenerationParams, card: ModelCard, mode: Mode) -> Dimensions:
    """The output size for ``params`` on ``card``; raises ``InvalidRequest`` on malformed values."""
    _check_sent(params, card)
    if mode == "v2v" and card.v2v_follows_input and params.input_video is not None:
        return _follow_input(params, card, params.input_video[0], params.input_video[1])
    if mode == "v2v" and card.custom_size is not None and params.input_video is not None and not _sent_geometry(params):
        return _keep_input_size(card, params.input_video[0], params.input_video[1])
    if not is_auto(params.size) and not is_ratio_text(str(params.size)):
        return _from_pixels(params, card)
    return _from_shape_and_scale(params, card, mode)


def _follow_input(params: GenerationParams, card: ModelCard, width: int, height: int) -> Dimensions:
    """The input video's own size, scaled down (keeping its shape) if larger than the nearest tier."""
    ratio = nearest_ratio(card, width / height)
    tier = nearest_tier(card, ratio, width * height)
    cap_w, cap_h = card.size_for(tier, ratio)
    scale = min(1.0, math.sqrt(cap_w * cap_h / (width * height)))
    out_w, out_h = (_even(width * scale), _even(height * scale)) if scale < 1 else (width, height)
    entries = [ignored(name, value, FOLLOWS_INPUT) for name, value in _sent_geometry(params)]
    return Dimensions(out_w, out_h, ratio, tier, tuple(entries))


def _keep_input_size(card: ModelCard, width: int, height: int) -> Dimensions:
    """No geometry sent on a free-size card: the edit keeps the input video's own size (within bounds)."""
    assert card.custom_size is not None
    out_w, out_h = fit_custom_size(width, height, card.custom_size)
    ratio = nearest_ratio(card, out_w / out_h)
    return Dimensions(out_w, out_h, ratio, nearest_tier(card, ratio, out_w * out_h), ())


def _even(value: float) -> int:
    return max(2, 2 * math.floor(value / 2 + 0.5))


def _from_pixels(params: GenerationParams, card: ModelCard) -> Dimensions:
    """``size`` as ``WxH``: exact on free-size cards (within bounds), else the nearest offered size."""
    width, height = parse_size(params.size)
    if card.custom_size is not None:
        out_w, out_h = fit_custom_size(width, height, card.custom_size)
        ratio = nearest_ratio(card, out_w / out_h)
        tier = nearest_tier(card, ratio, out_w * out_h)
        why = _custom_size_reason(width, height, card)
    else:
        ratio = nearest_ratio(card, width / height)
        tier = nearest_tier(card, ratio, width * height)
        out_w, out_h = card.size_for(tier, ratio)
        why = f"{width}x{height} is not offered"
    changed = (out_w, out_h) != (width, height)
    note = f"{why}; nearest is {out_w}x{out_h} ({ratio} at {tier})" if changed else ""
    entries = [entry_for(card, "size", params.size, _size_value(out_w, out_h, ratio, tier), changed=changed, note=note)]
    entries += [ignored(name, value, SIZE_WINS) for name, value in _sent_geometry(params) if name != "size"]
    return Dimensions(out_w, out_h, ratio, tier, tuple(entries))


def _from_shape_and_scale(params: GenerationParams, card: ModelCard, mode: Mode) -> Dimensions:
    ratio, shape_entries = _choose_ratio(params, card, mode)
    tier, scale_entries = _choose_tier(params, card, mode, ratio)
    width, height = card.size_for(tier, ratio)
    entries = [*shape_entries, *scale_entries]
    if params.size is not None and is_auto(params.size):  # "auto" sent explicitly: report the outcome
        auto_note = f"auto: {ratio} at {tier}"
        entries.insert(0, entry_for(card, "size", params.size, _size_value(width, height, ratio, tier), note=auto_note))
    else:
        # A W:H size is the shape entry; give it the final WxH too, so the client sees what it gets.
        entries = [_with_size(e, width, height, ratio, tier) if e.param == "size" else e for e in entries]
    return Dimensions(width, height, ratio, tier, tuple(entries))


def _choose_ratio(params: GenerationParams, card: ModelCard, mode: Mode) -> tuple[str, list[ReportEntry]]:
    entries: list[ReportEntry] = []
    if not is_auto(params.size):  # a W:H size
        requested = parse_ratio(params.size, param="size")
        ratio = nearest_ratio(card, requested)
        entries.append(_ratio_entry(card, "size", params.size, requested, ratio))
        if params.aspect_ratio is not None:
            entries.append(ignored("aspect_ratio", params.aspect_ratio, SIZE_WINS))
        return ratio, entries
    if not is_auto(params.aspect_ratio):
        requested = parse_ratio(params.aspect_ratio, param="aspect_ratio")
        ratio = nearest_ratio(card, requested)
        entries.append(_ratio_entry(card, "aspect_ratio", params.aspect_ratio, requested, ratio))
        return ratio, entries
    source = _source_shape(params, mode)
    ratio = card.default_aspect_ratio if source is None else nearest_ratio(card, source[0] / source[1])
    if params.aspect_ratio is not None:  # "auto"
        why = "the input's shape" if source is not None else "the model's default"
        entries.append(entry_for(card, "aspect_ratio", params.aspect_ratio, ratio, note=f"auto: {ratio}, {why}"))
    return ratio, entries


def _choose_tier(params: GenerationParams, card: ModelCard, mode: Mode, ratio: str) -> tuple[str, list[ReportEntry]]:
    sent = params.resolution
    if sent is not None and not is_auto(sent):
        named = match_tier_name(card, sent)
        tier = named or nearest_tier(card, ratio, parse_resolution(sent))
        note = "" if named else f"{sent} is not offered; nearest tier is {tier}"
        return tier, [entry_for(card, "resolution", sent, tier, changed=named is None, note=note)]
    video = params.input_video if mode == "v2v" else None
    tier = card.default_tier if video is None else nearest_tier(card, ratio, video[0] * video[1])
    if sent is None:
        return tier, []
    why = "nearest the input video" if video is not None else "the model's default"
    return tier, [entry_for(card, "resolution", sent, tier, note=f"auto: {tier}, {why}")]


def _ratio_entry(card: ModelCard, param: str, sent: Any, requested: float, ratio: str) -> ReportEntry:
    changed = log_distance(card.ratio_value(ratio), requested) > 1e-9
    note = f"{sent} is not offered; nearest supported ratio is {ratio}" if changed else ""
    return entry_for(card, param, sent, ratio, changed=changed, note=note)


def _check_sent(params: GenerationParams, card: ModelCard) -> None:
    """Reject garbage in every geometry field, even one that precedence will ignore."""
    if not is_auto(params.size):
        size = params.size
        if isinstance(size, str) and is_ratio_text(size):
            parse_ratio(size, param="size")
        else:
            parse_size(size)
    if not is_auto(params.aspect_ratio):
        parse_ratio(params.aspect_ratio, param="aspect_ratio")
    if not is_auto(params.resolution) and match_tier_name(card, params.resolution) is None:
        parse_resolution(params.resolution)


def _source_shape(params: GenerationParams, mode: Mode) -> tuple[int, int] | None:
    """The shape an ``auto`` ratio follows: the input video's for v2v, the first image's for i2v."""
    if mode == "v2v" and params.input_video is not None:
        return params.input_video[0], params.input_video[1]
    if mode == "i2v" and params.reference_size is not None:
        return params.reference_size
    return None


def _sent_geometry(params: GenerationParams) -> list[tuple[str, Any]]:
    fields = (("size", params.size), ("aspect_ratio", params.aspect_ratio), ("resolution", params.resolution))
    return [(name, value) for name, value in fields if value is not None]


def _size_value(width: int, height: int, ratio: str, tier: str) -> dict[str, str]:
    return {"size": f"{width}x{height}", "aspect_ratio": ratio, "resolution": tier}


def _with_size(entry: ReportEntry, width: int, height: int, ratio: str, tier: str) -> ReportEntry:
    return replace(entry, value=_size_value(width, height, ratio, tier))


def _custom_size_reason(width: int, height: int, card: ModelCard) -> str:
    bounds = card.custom_size
    assert bounds is not None
    long_side, short_side = max(width, height), min(width, height)
    if long_side > bounds.max_long_side or short_side > bounds.max_short_side:
        largest = f"{bounds.max_long_side}x{bounds.max_short_side}"
        return f"{width}x{height} is larger than this model renders (at most {largest})"
    if short_side < bounds.min_side:
        return f"{width}x{height} is smaller than this model renders (sides of at least {bounds.min_side})"
    return f"{width}x{height} has sides that are not multiples of {bounds.multiple_of}"
