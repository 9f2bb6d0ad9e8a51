"""``normalize()``: one client request, judged against one model card, becomes one provider request.

Pure and deterministic: no I/O, no clock, no provider code. Every difference between models comes
from the card, so this module reads top to bottom the same for all of them: mode, prompt,
dimensions, seconds, n, seed, inputs, unknown fields, cost. A value that cannot mean anything is an
``InvalidRequest`` naming the field; a value the model does not offer becomes the nearest one it
does, and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from reelay.catalog import DurationRule, Mode, ModelCard
from reelay.errors import InvalidRequest, UnsupportedParameter
from reelay.normalize.dimensions import choose_dimensions
from reelay.normalize.frames import engine_entries
from reelay.normalize.params import GenerationParams
from reelay.normalize.report import ReportEntry, entry_for, ignored
from reelay.normalize.request import NormalizedRequest, ReferenceMode
from reelay.normalize.values import (
    check_prompt,
    clamp_seconds,
    display_seconds,
    parse_n,
    parse_seconds,
    parse_seed,
    snap_seconds,
)

KEEPS_LENGTH = "the output keeps the input video's length"
REFERENCE_MODES = ("auto", "first_frame", "references")
MODE_NAMES: dict[Mode, str] = {"t2v": "text-to-video", "i2v": "image-to-video", "v2v": "video-to-video"}


def normalize(params: GenerationParams, card: ModelCard) -> NormalizedRequest:
    """Check ``params`` against ``card`` and map every value onto what the model offers."""
    mode = choose_mode(params, card)
    reference_mode = choose_reference_mode(params, card)
    prompt = check_prompt(params.prompt, card)
    # References guide the look, not the frame: the output's shape follows the request or the card.
    shape_source = replace(params, reference_size=None) if reference_mode == "references" else params
    dims = choose_dimensions(shape_source, card, mode)
    seconds, seconds_entries = _seconds(params, card, mode, duration_rule(params, card, reference_mode))
    n, n_entries = _n(params, card)
    seed, seed_entries = _seed(params, card)
    report = [
        entry_for(card, "prompt", params.prompt, prompt),
        *seconds_entries,
        *engine_entries(card, seconds),
        *dims.entries,
        *n_entries,
        *seed_entries,
        *_input_entries(params, card, reference_mode),
        *(ReportEntry(key, "passthrough", value, value, upstream=key) for key, value in params.extra.items()),
    ]
    return NormalizedRequest(
        model=card.id,
        upstream_model=card.upstream_model,
        provider=card.provider,
        mode=mode,
        prompt=prompt,
        width=dims.width,
        height=dims.height,
        aspect_ratio=dims.ratio,
        resolution=dims.tier,
        upstream_resolution=card.upstream_resolution(dims.tier),
        seconds=seconds,
        n=n,
        seed=seed,
        emulate_n=card.native_n < n,
        passthrough=dict(params.extra),
        report=tuple(report),
        cost_estimate=round(card.price_for(dims.tier) * seconds * n, 6),
        reference_mode=reference_mode,
    )


def choose_mode(params: GenerationParams, card: ModelCard) -> Mode:
    """v2v with an input video, i2v with reference images, else t2v; the card must support it."""
    if params.input_video is not None and params.reference_images > 0:
        raise InvalidRequest(
            "Send either input_reference (image-to-video) or input_video (video-to-video), not both.",
            param="input_reference",
        )
    mode: Mode = "v2v" if params.input_video is not None else "i2v" if params.reference_images > 0 else "t2v"
    if mode not in card.modes:
        supported = ", ".join(MODE_NAMES[m] for m in card.modes)
        if mode == "t2v":
            raise InvalidRequest(
                f"{card.id} needs an input (it supports {supported}); send input_reference.",
                param="input_reference",
            )
        param = "input_video" if mode == "v2v" else "input_reference"
        raise UnsupportedParameter(
            f"{card.id} does not do {MODE_NAMES[mode]} (it supports {supported}); "
            f"drop {param} or choose another model.",
            param=param,
        )
    _check_inputs(params, card)
    return mode


def choose_reference_mode(params: GenerationParams, card: ModelCard) -> ReferenceMode | None:
    """How the input_reference images are used: one image is the first frame unless the client asks
    for ``reference_mode: "references"``; several images are references (reference-to-video)."""
    requested = params.reference_mode
    if requested is not None and requested not in REFERENCE_MODES:
        raise InvalidRequest(
            f"reference_mode must be one of {', '.join(REFERENCE_MODES)}, not {requested!r}.", param="reference_mode"
        )
    count = params.reference_images
    if count == 0:
        if requested not in (None, "auto"):
            raise InvalidRequest("reference_mode needs input_reference images to apply to.", param="reference_mode")
        return None
    if requested == "first_frame" and count > 1:
        raise InvalidRequest(
            f"reference_mode first_frame animates one image, and {count} were sent; send one, or use references.",
            param="input_reference",
        )
    mode: ReferenceMode = "references" if requested == "references" or count > 1 else "first_frame"
    if mode == "references" and not card.reference_to_video:
        raise UnsupportedParameter(
            f"{card.id} cannot use images as references (reference-to-video); it animates one image as the "
            "first frame. Send one input_reference, or choose a model whose capabilities list reference_to_video.",
            param="reference_mode" if count == 1 else "input_reference",
        )
    return mode


def _check_inputs(params: GenerationParams, card: ModelCard) -> None:
    if params.reference_images > card.max_reference_images:
        raise InvalidRequest(
            f"{card.id} takes at most {card.max_reference_images} input_reference image(s); "
            f"{params.reference_images} were sent.",
            param="input_reference",
        )
    if params.input_video is None:
        return
    width, height, seconds = params.input_video
    if width <= 0 or height <= 0 or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidRequest("input_video has no usable size or duration.", param="input_video")
    limit = card.max_input_video_seconds
    if limit is not None and seconds > limit:
        raise InvalidRequest(
            f"input_video is {seconds:g} s long; {card.id} edits videos of at most {limit:g} s. Trim it first.",
            param="input_video",
        )


def duration_rule(params: GenerationParams, card: ModelCard, reference_mode: ReferenceMode | None) -> DurationRule:
    """The lengths this request may have: the card's, the ADDED part of an extension (``[extension]``,
    whose input length is checked here too), or capped at ``max_reference_seconds`` with references."""
    if params.extend_input_seconds is not None and card.extension is not None:
        _check_extension_input(params.extend_input_seconds, card)
        return card.extension.durations
    cap = card.max_reference_seconds
    rule = card.durations
    if reference_mode != "references" or cap is None or cap >= rule.max:
        return rule
    top = max(rule.min, rule.min + math.floor((cap - rule.min) / rule.step + 1e-9) * rule.step)
    return DurationRule(min=rule.min, max=top, step=rule.step, default=min(rule.default, top))


def _check_extension_input(seconds: float, card: ModelCard) -> None:
    assert card.extension is not None
    low, high = card.extension.min_input_seconds, card.extension.max_input_seconds
    if seconds < low or (high is not None and seconds > high):
        bounds = f"{low:g}-{high:g} s" if high is not None else f"at least {low:g} s"
        raise InvalidRequest(
            f"the video to extend is {seconds:.2f} s long; {card.id} extends videos of {bounds}. "
            "Trim it or send another video.",
            param="video",
        )


def _seconds(
    params: GenerationParams, card: ModelCard, mode: Mode, rule: DurationRule
) -> tuple[float, list[ReportEntry]]:
    """Sent seconds snap to the rule's grid; unsent ones follow the input video (v2v) or the default."""
    field = params.seconds_field
    video = params.input_video if mode == "v2v" else None
    if params.seconds is None:
        if video is not None:
            return clamp_seconds(video[2], rule), []
        return rule.default, []
    requested = parse_seconds(params.seconds, param=field)
    if video is not None and card.v2v_follows_input:
        return clamp_seconds(video[2], rule), [ignored(field, params.seconds, KEEPS_LENGTH)]
    seconds = snap_seconds(requested, rule)
    changed = abs(seconds - requested) > 1e-9
    limited = " with reference images" if rule.max < card.durations.max and params.reference_images else ""
    note = (
        f"{requested:g} s is not offered{limited}; nearest allowed is {seconds:g} s "
        f"({rule.min:g}-{rule.max:g} s in {rule.step:g} s steps)"
        if changed
        else ""
    )
    entry = entry_for(
        card, "seconds", params.seconds, display_seconds(seconds), changed=changed, note=note, param=field
    )
    return seconds, [entry]


def _n(params: GenerationParams, card: ModelCard) -> tuple[int, list[ReportEntry]]:
    if params.n is None:
        return 1, []
    n = parse_n(params.n, card)
    upstream = card.params["n"].upstream
    if card.native_n < n:
        note = f"{n} parallel runs"
        return n, [ReportEntry("n", "emulated", params.n, n, note=note, upstream=upstream)]
    return n, [ReportEntry("n", "passthrough", params.n, n, upstream=upstream)]


def _seed(params: GenerationParams, card: ModelCard) -> tuple[int | None, list[ReportEntry]]:
    """A seed the model cannot take is validated, reported as ignored, and not sent."""
    if params.seed is None:
        return None, []
    seed = parse_seed(params.seed)
    if "seed" not in card.params:
        return None, [ignored("seed", params.seed, f"{card.id} does not take a seed")]
    return seed, [entry_for(card, "seed", params.seed, seed)]


def _input_entries(
    params: GenerationParams, card: ModelCard, reference_mode: ReferenceMode | None
) -> list[ReportEntry]:
    entries: list[ReportEntry] = []
    count = params.reference_images
    if reference_mode == "references":
        value = {"images": count, "used_as": "references"}
        entries.append(entry_for(card, "reference_images", count, value, param="input_reference"))
    elif reference_mode == "first_frame":
        entries.append(entry_for(card, "input_reference", count, count))
    if params.input_video is not None:
        width, height, seconds = params.input_video
        video: dict[str, Any] = {"width": width, "height": height, "seconds": seconds}
        entries.append(entry_for(card, "input_video", video, video))
    return entries
