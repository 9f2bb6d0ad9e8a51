"""Parsing of size / ratio / resolution values and nearest matching, as pure functions."""

from __future__ import annotations

import math

import pytest

from reelay.catalog import CustomSize, load_catalog
from reelay.errors import InvalidRequest
from reelay.normalize import GenerationParams, normalize
from reelay.normalize.geometry import (
    fit_custom_size,
    match_tier_name,
    nearest_ratio,
    nearest_tier,
    parse_ratio,
    parse_resolution,
    parse_size,
)

CATALOG = load_catalog()
GROK = CATALOG.get("grok-imagine-video")
LOCAL = CATALOG.get("reelay-local")
LOCAL_BOUNDS = CustomSize(max_long_side=1280, max_short_side=720, min_side=64, multiple_of=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1280x720", (1280, 720)),
        ("1280×720", (1280, 720)),
        ("1280X720", (1280, 720)),
        (" 1280 x 720 ", (1280, 720)),
        ("1x1", (1, 1)),
        ("16384x16384", (16384, 16384)),
    ],
)
def test_parse_size(text: str, expected: tuple[int, int]) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    "text", ["abc", "0x720", "720x0", "-5x5", "99999x5", "16385x10", "1280x", "x720", "12.5x10", "", 1280]
)
def test_parse_size_rejects(text: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_size(text)
    assert info.value.param == "size"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("16:9", 16 / 9),
        ("16/9", 16 / 9),
        ("1.78", 1.78),
        (" 9 : 16 ", 9 / 16),
        ("2.39:1", 2.39),
        (1.5, 1.5),
        (1, 1.0),
    ],
)
def test_parse_ratio(value: object, expected: float) -> None:
    assert parse_ratio(value, param="aspect_ratio") == pytest.approx(expected)


@pytest.mark.parametrize("value", ["wide", "16:0", "0:9", "-16:9", "0", "1000:1", "16:9:1", "", True, None])
def test_parse_ratio_rejects(value: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_ratio(value, param="aspect_ratio")
    assert info.value.param == "aspect_ratio"


@pytest.mark.parametrize(
    ("value", "pixels"),
    [
        ("1K", 1024**2),
        ("1k", 1024**2),
        ("0.5K", 512**2),
        ("2K", 2048**2),
        ("4K", 4096**2),
        ("720p", 720 * 720 * 16 / 9),
        ("720P", 720 * 720 * 16 / 9),
        ("480p", 480 * 480 * 16 / 9),
        ("2160p", 2160 * 2160 * 16 / 9),
        ("0.25", 250_000),
        (1, 1_000_000),
        (0.25, 250_000),
        ("2MP", 2_000_000),
    ],
)
def test_parse_resolution(value: object, pixels: float) -> None:
    assert parse_resolution(value) == pytest.approx(pixels)


@pytest.mark.parametrize("value", ["big", "1080", "0", "-1K", "720i", "p", 0, -1, math.nan, math.inf, True])
def test_parse_resolution_rejects(value: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_resolution(value)
    assert info.value.param == "resolution"


def test_nearest_ratio_in_log_space() -> None:
    card = LOCAL.model_copy(update={"aspect_ratios": ["4:1", "8:1"], "default_aspect_ratio": "4:1"})
    # 7 is closer to 8 in log space (ratio 8/7 = 1.14) than to 4 (7/4 = 1.75).
    assert nearest_ratio(card, 7.0) == "8:1"
    assert nearest_ratio(card, 5.0) == "4:1"


@pytest.mark.parametrize("model", ["kling-2.1-master", "wan-2.5", "wan2.2-t2v"])
@pytest.mark.parametrize(("ratio", "label"), [(4 / 3, "16:9"), (3 / 4, "9:16")])
def test_a_tie_goes_to_the_first_ratio_in_the_card(model: str, ratio: float, label: str) -> None:
    """4:3 is exactly as far from 16:9 as from 1:1 in log space; the docs promise the card's order decides."""
    card = load_catalog().get(model)
    assert card.aspect_ratios == ["16:9", "9:16", "1:1"]
    assert nearest_ratio(card, ratio) == label
    requested = "4:3" if ratio > 1 else "3:4"
    assert normalize(GenerationParams(prompt="a fox", aspect_ratio=requested), card).aspect_ratio == label
    reordered = card.model_copy(update={"aspect_ratios": ["1:1", "9:16", "16:9"]})
    assert nearest_ratio(reordered, ratio) == "1:1"


@pytest.mark.parametrize(
    ("ratio", "label"),
    [(7.0, "16:9"), (1 / 7, "9:16"), (1.0, "1:1"), (1.3, "4:3"), (1.55, "3:2"), (0.7, "2:3"), (0.74, "3:4")],
)
def test_nearest_ratio_on_grok(ratio: float, label: str) -> None:
    assert nearest_ratio(GROK, ratio) == label


@pytest.mark.parametrize(
    ("ratio", "pixels", "tier"),
    [
        ("16:9", 1280 * 720, "720p"),
        ("16:9", 854 * 480, "480p"),
        ("16:9", 100, "480p"),
        ("16:9", 10**8, "720p"),
        ("1:1", 1024**2, "720p"),
        # Geometric midpoint of 480x480 and 720x720 areas is 345,600 px; just below goes to 480p.
        ("1:1", 345_000, "480p"),
        ("1:1", 346_000, "720p"),
    ],
)
def test_nearest_tier_by_area(ratio: str, pixels: float, tier: str) -> None:
    assert nearest_tier(LOCAL, ratio, pixels) == tier


def test_match_tier_name_ignores_case() -> None:
    assert match_tier_name(GROK, "1k") == "1K"
    assert match_tier_name(LOCAL, "720P") == "720p"
    assert match_tier_name(LOCAL, "1080p") is None
    assert match_tier_name(LOCAL, 720) is None


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1280, 720), (1280, 720)),
        ((720, 1280), (720, 1280)),
        ((640, 360), (640, 360)),
        ((641, 361), (642, 362)),
        ((1279, 721), (1278, 720)),
        ((1920, 1080), (1280, 720)),
        ((1080, 1920), (720, 1280)),
        ((3840, 2160), (1280, 720)),
        ((1000, 1000), (720, 720)),
        ((32, 32), (64, 64)),
        ((10000, 100), (1280, 64)),  # too extreme to keep its shape: clamped on both sides
        ((65, 65), (66, 66)),
    ],
)
def test_fit_custom_size(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert fit_custom_size(*size, LOCAL_BOUNDS) == expected


@pytest.mark.parametrize("size", [(1279, 721), (999, 333), (1919, 1079), (77, 1999), (5, 7), (16384, 1)])
def test_fit_custom_size_always_fits(size: tuple[int, int]) -> None:
    width, height = fit_custom_size(*size, LOCAL_BOUNDS)
    assert width % 2 == 0 and height % 2 == 0
    assert max(width, height) <= 1280 and min(width, height) <= 720
    assert min(width, height) >= 64
