"""Clauses of the normalization rules the mutation check (docs/testing.md) found loose: what the
report says when a value passes, changes or is ignored, and the edges of the accepted ranges."""

from __future__ import annotations

import pytest

from reelay.catalog import load_catalog
from reelay.errors import InvalidRequest
from reelay.normalize import GenerationParams, NormalizedRequest, ReportEntry, normalize
from reelay.normalize.geometry import parse_ratio, parse_resolution, parse_size
from reelay.normalize.values import parse_seed

CATALOG = load_catalog()
GROK = CATALOG.get("grok-imagine-video")
KLING = CATALOG.get("kling-2.1-master")


def entry(result: NormalizedRequest, param: str) -> ReportEntry:
    (found,) = [e for e in result.report if e.param == param]
    return found


def test_a_supported_ratio_passes_through_with_no_note() -> None:
    ray = CATALOG.get("ray-2")  # its aspect_ratio rule has no note of its own
    passed = entry(normalize(GenerationParams(prompt="a fox", aspect_ratio="16:9"), ray), "aspect_ratio")
    assert (passed.behaviour, passed.requested, passed.value, passed.note) == ("passthrough", "16:9", "16:9", "")


def test_a_changed_ratio_says_what_it_became() -> None:
    changed = entry(normalize(GenerationParams(prompt="a fox", aspect_ratio="4:3"), KLING), "aspect_ratio")
    assert (changed.behaviour, changed.requested, changed.value) == ("converted", "4:3", "16:9")
    assert changed.note == "4:3 is not offered; nearest supported ratio is 16:9"


def test_an_aspect_ratio_beside_a_ratio_size_is_reported_ignored_with_its_value() -> None:
    result = normalize(GenerationParams(prompt="a fox", size="16:9", aspect_ratio="9:16"), GROK)
    assert result.aspect_ratio == "16:9"
    ignored = entry(result, "aspect_ratio")
    assert (ignored.behaviour, ignored.requested, ignored.value) == ("ignored", "9:16", None)
    assert ignored.note == "size takes precedence"


def test_the_ratio_range_includes_its_ends() -> None:
    assert parse_ratio("100:1", param="aspect_ratio") == 100.0
    assert parse_ratio("1:100", param="aspect_ratio") == pytest.approx(0.01)
    with pytest.raises(InvalidRequest):
        parse_ratio("101:1", param="aspect_ratio")


def test_resolution_spaces_are_ignored() -> None:
    assert parse_resolution(" 720 p ") == parse_resolution("720p")
    assert parse_resolution("1 K") == 1024**2


def test_refusals_say_what_to_send() -> None:
    with pytest.raises(InvalidRequest) as size:
        parse_size("0x720")
    assert size.value.param == "size" and "each side must be 1 to 16384 pixels" in size.value.message
    with pytest.raises(InvalidRequest) as seed:
        parse_seed(-1)
    assert seed.value.param == "seed" and "send a whole number from 0 to 4294967295" in seed.value.message
    with pytest.raises(InvalidRequest) as ratio:
        parse_ratio("wide", param="aspect_ratio")
    assert "'wide' is not a usable aspect ratio" in ratio.value.message


def test_auto_fields_say_what_was_chosen_and_why() -> None:
    result = normalize(GenerationParams(prompt="a fox", aspect_ratio="auto", resolution="auto"), KLING)
    shape, scale = entry(result, "aspect_ratio"), entry(result, "resolution")
    assert (shape.requested, shape.value) == ("auto", result.aspect_ratio)
    assert shape.note == f"auto: {result.aspect_ratio}, the model's default"
    assert (scale.requested, scale.value) == ("auto", result.resolution)
    assert scale.note == f"auto: {result.resolution}, the model's default"


def test_a_tier_that_is_not_offered_says_which_one_was_used() -> None:
    named = entry(normalize(GenerationParams(prompt="a fox", resolution="1080P"), KLING), "resolution")
    assert named.value == "1080p" and "not offered" not in named.note
    nearest = entry(normalize(GenerationParams(prompt="a fox", resolution="2MP"), KLING), "resolution")
    assert (nearest.behaviour, nearest.requested, nearest.value) == ("converted", "2MP", "1080p")
    assert nearest.note == "2MP is not offered; nearest tier is 1080p"


def test_v2v_without_geometry_reports_the_input_shape() -> None:
    local = CATALOG.get("reelay-local")
    portrait = normalize(GenerationParams(prompt="grey", input_video=(240, 426, 2.0)), local)
    assert (portrait.width, portrait.height, portrait.aspect_ratio) == (240, 426, "9:16")


def test_an_empty_prompt_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidRequest) as refused:
        normalize(GenerationParams(prompt=""), KLING)
    assert refused.value.param == "prompt" and refused.value.message == "prompt is required and must not be empty."
