"""The shipped cards: their data is the contract with clients, so pin it down exactly."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from reelay.catalog import ModelCard, load_catalog

CATALOG = load_catalog()

GROK_1K = {
    "16:9": "1365x768",
    "9:16": "768x1365",
    "3:2": "1254x836",
    "2:3": "836x1254",
    "4:3": "1183x887",
    "3:4": "887x1182",
    "1:1": "1024x1024",
}
LOCAL_TIERS = {
    "480p": {
        "16:9": "854x480",
        "9:16": "480x854",
        "1:1": "480x480",
        "4:3": "640x480",
        "3:4": "480x640",
        "3:2": "720x480",
        "2:3": "480x720",
    },
    "720p": {
        "16:9": "1280x720",
        "9:16": "720x1280",
        "1:1": "720x720",
        "4:3": "960x720",
        "3:4": "720x960",
        "3:2": "1080x720",
        "2:3": "720x1080",
    },
}


def test_shipped_models() -> None:
    assert [card.id for card in CATALOG.cards()] == [
        "cogvideox-5b",
        "cogvideox-5b-i2v",
        "gen4_turbo",
        "grok-imagine-video",
        "grok-imagine-video-1.5",
        "kling-2.1-master",
        "ltx-video",
        "minimax-video-01",
        "ray-2",
        "reelay-local",
        "veo-3",
        "wan-2.5",
        "wan2.1-i2v-14b-480p",
        "wan2.1-t2v-1.3b",
        "wan2.2-t2v",
        "wan2.2-ti2v-5b",
    ]
    assert CATALOG.default_model == "reelay-local"


@pytest.mark.parametrize("model_id", ["grok-imagine-video", "grok-imagine-video-1.5"])
def test_grok_1k_table_is_exact(model_id: str) -> None:
    card = CATALOG.get(model_id)
    assert card.tiers == {"1K": GROK_1K}
    assert card.default_tier == "1K"
    assert card.default_aspect_ratio == "16:9"
    assert card.custom_size is None
    assert card.upstream_resolution("1K") == "720p"


def test_grok_card() -> None:
    card = CATALOG.get("grok-imagine-video")
    assert (card.kind, card.provider, card.owned_by, card.upstream_model) == (
        "learned",
        "xai",
        "xai",
        "grok-imagine-video",
    )
    assert card.modes == ["t2v", "i2v", "v2v"]
    assert (card.durations.min, card.durations.max, card.durations.step, card.durations.default) == (
        1,
        15,
        1,
        6,
    )
    assert (card.native_n, card.max_n, card.audio) == (1, 4, True)
    assert (card.max_prompt_chars, card.max_reference_images, card.reference_to_video) == (4096, 7, True)
    assert card.price_per_second == 0.05
    assert CATALOG.get("grok-imagine-video-1.5").price_per_second == 0.08


def test_grok_param_behaviours() -> None:
    params = CATALOG.get("grok-imagine-video").params
    expected = {
        "prompt": ("passthrough", "prompt"),
        "seconds": ("renamed", "duration"),
        "size": ("converted", "aspect_ratio+resolution"),
        "aspect_ratio": ("passthrough", "aspect_ratio"),
        "resolution": ("converted", "resolution"),
        "n": ("emulated", None),
        "input_reference": ("converted", "image"),
        "reference_images": ("converted", "reference_images"),
        "input_video": ("converted", "video"),
    }
    assert {name: (rule.behaviour, rule.upstream) for name, rule in params.items()} == expected


def test_local_card() -> None:
    card = CATALOG.get("reelay-local")
    assert (card.kind, card.provider, card.owned_by) == ("procedural", "local", "reelay")
    assert card.aliases == ["local", "reelay-local-procedural"]
    assert card.tiers == LOCAL_TIERS
    assert card.default_tier == "720p"
    assert card.aspect_ratios == ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"]
    assert card.custom_size is not None
    assert card.custom_size.model_dump() == {
        "max_long_side": 1280,
        "max_short_side": 720,
        "min_side": 64,
        "multiple_of": 2,
    }
    assert (card.durations.min, card.durations.max, card.durations.step, card.durations.default) == (
        1,
        15,
        1,
        5,
    )
    assert (card.native_n, card.audio, card.price_per_second) == (1, True, 0)
    assert (card.max_prompt_chars, card.max_reference_images) == (4000, 1)
    assert "seed" in card.params


def test_local_description_says_it_is_procedural() -> None:
    text = CATALOG.get("reelay-local").description.lower()
    assert "procedural" in text
    assert "not a learned model" in text
    for words in ("title card", "particles", "camera move", "filter"):
        assert words in text


@pytest.mark.parametrize("card", CATALOG.cards(), ids=lambda c: c.id)
def test_capabilities_are_json_ready(card: ModelCard) -> None:
    caps = card.capabilities()
    assert json.loads(json.dumps(caps)) == caps
    assert caps["modes"] == card.modes
    assert caps["sizes"] == card.tiers
    assert caps["aspect_ratios"] == card.aspect_ratios
    assert caps["n"]["max"] == card.max_n
    assert caps["n"]["emulated"] is True  # every shipped model makes one video per request
    assert caps["pricing"]["per_second"] == card.price_per_second
    assert set(caps["params"]) == set(card.params)
    assert caps["params"]["size"]["behaviour"] == card.params["size"].behaviour


def test_local_capabilities_include_custom_size() -> None:
    caps = CATALOG.get("local").capabilities()
    assert caps["custom_size"]["max_long_side"] == 1280
    assert caps["seconds"] == {"min": 1, "max": 15, "step": 1, "default": 5}
    assert caps["audio"] is True


def test_card_lookups() -> None:
    card = CATALOG.get("reelay-local")
    assert card.size_for("480p", "9:16") == (480, 854)
    assert card.ratio_value("4:3") == pytest.approx(4 / 3)
    assert card.price_for("720p") == 0
    assert card.upstream_resolution("720p") == "720p"


def test_the_example_card_in_the_docs_is_valid() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "normalization.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    card = ModelCard.model_validate(tomllib.loads(block.group(1)))
    assert card.size_for("1080p", "9:16") == (1080, 1920)
    assert card.price_for("1080p") == 0.20
