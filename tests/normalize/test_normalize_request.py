"""normalize(): request fields against the shipped cards, including the report the client sees."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from reelay.catalog import load_catalog
from reelay.errors import InvalidRequest, UnsupportedParameter
from reelay.normalize import GenerationParams, NormalizedRequest, ReportEntry, normalize

CATALOG = load_catalog()
GROK = CATALOG.get("grok-imagine-video")
GROK_15 = CATALOG.get("grok-imagine-video-1.5")
LOCAL = CATALOG.get("reelay-local")

GROK_1K = {
    "16:9": (1365, 768),
    "9:16": (768, 1365),
    "3:2": (1254, 836),
    "2:3": (836, 1254),
    "4:3": (1183, 887),
    "3:4": (887, 1182),
    "1:1": (1024, 1024),
}


def run(card: Any = GROK, **fields: Any) -> NormalizedRequest:
    fields.setdefault("prompt", "a red fox in the snow")
    return normalize(GenerationParams(**fields), card)


def entry(result: NormalizedRequest, param: str) -> ReportEntry:
    matches = [e for e in result.report if e.param == param]
    assert len(matches) == 1, f"expected one {param!r} entry in {result.report}"
    return matches[0]


def params_in(result: NormalizedRequest) -> list[str]:
    return [e.param for e in result.report]


# -- the grok 1K table, both ways ---------------------------------------------------------------


@pytest.mark.parametrize("card", [GROK, GROK_15], ids=lambda c: c.id)
@pytest.mark.parametrize(("ratio", "size"), GROK_1K.items())
def test_grok_ratio_and_tier_equal_the_size(card: Any, ratio: str, size: tuple[int, int]) -> None:
    by_shape = run(card, aspect_ratio=ratio, resolution="1K")
    by_size = run(card, size=f"{size[0]}x{size[1]}")
    by_ratio_size = run(card, size=ratio, resolution="1K")
    for result in (by_shape, by_size, by_ratio_size):
        assert (result.width, result.height) == size
        assert (result.aspect_ratio, result.resolution, result.upstream_resolution) == (ratio, "1K", "720p")
    assert entry(by_size, "size").value == {"size": by_size.size, "aspect_ratio": ratio, "resolution": "1K"}
    assert entry(by_size, "size").behaviour == "converted"  # the card's rule: WxH -> aspect_ratio + resolution
    assert entry(by_shape, "aspect_ratio").behaviour == "passthrough"


@pytest.mark.parametrize(
    ("fields", "size"),
    [
        ({"size": "7:1"}, "1365x768"),
        ({"aspect_ratio": "7:1"}, "1365x768"),
        ({"aspect_ratio": "1:7"}, "768x1365"),
        ({"size": "1920x1080"}, "1365x768"),
        ({"size": "1080x1920"}, "768x1365"),
        ({"size": "3840x2160"}, "1365x768"),
        ({"size": "640x480"}, "1183x887"),
        ({"size": "500x500"}, "1024x1024"),
        ({"resolution": "720p"}, "1365x768"),
        ({"resolution": "4K", "aspect_ratio": "9:16"}, "768x1365"),
        ({"resolution": "0.25", "aspect_ratio": "1:1"}, "1024x1024"),
        ({"aspect_ratio": "16/9"}, "1365x768"),
        ({"aspect_ratio": "1.5"}, "1254x836"),
        ({}, "1365x768"),
        ({"size": "auto"}, "1365x768"),
        ({"size": "auto", "aspect_ratio": "auto", "resolution": "auto"}, "1365x768"),
        ({"size": "AUTO", "aspect_ratio": "3:4"}, "887x1182"),
    ],
)
def test_grok_nearest_size(fields: dict[str, Any], size: str) -> None:
    assert run(GROK, **fields).size == size


def test_seven_to_one_is_reported_as_converted() -> None:
    result = run(GROK, size="7:1")
    size = entry(result, "size")
    assert size.behaviour == "converted"
    assert size.requested == "7:1"
    assert size.value == {"size": "1365x768", "aspect_ratio": "16:9", "resolution": "1K"}
    assert "16:9" in size.note


def test_720p_maps_to_1k_on_grok() -> None:
    result = run(GROK, resolution="720p")
    res = entry(result, "resolution")
    assert (res.behaviour, res.requested, res.value) == ("converted", "720p", "1K")
    assert result.resolution == "1K"


# -- reelay-local: free sizes within bounds -----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "size", "ratio", "tier"),
    [
        ({"size": "1280x720"}, "1280x720", "16:9", "720p"),
        ({"size": "1279x721"}, "1278x720", "16:9", "720p"),
        ({"size": "1920x1080"}, "1280x720", "16:9", "720p"),
        ({"size": "640x360"}, "640x360", "16:9", "480p"),
        ({"size": "300x500"}, "300x500", "9:16", "480p"),  # 0.6 is nearer 9:16 than 2:3 in log space
        ({"size": "16:9", "resolution": "480p"}, "854x480", "16:9", "480p"),
        ({"aspect_ratio": "16:9", "resolution": "480p"}, "854x480", "16:9", "480p"),
        ({"aspect_ratio": "9:16"}, "720x1280", "9:16", "720p"),
        ({"resolution": "1080p"}, "1280x720", "16:9", "720p"),
        ({"resolution": "360p", "aspect_ratio": "1:1"}, "480x480", "1:1", "480p"),
        ({}, "1280x720", "16:9", "720p"),
    ],
)
def test_local_sizes(fields: dict[str, Any], size: str, ratio: str, tier: str) -> None:
    result = run(LOCAL, **fields)
    assert (result.size, result.aspect_ratio, result.resolution) == (size, ratio, tier)


def test_local_exact_size_is_passthrough() -> None:
    size = entry(run(LOCAL, size="1280x720"), "size")
    assert (size.behaviour, size.note) == ("passthrough", LOCAL.params["size"].note)


@pytest.mark.parametrize(
    ("sent", "final", "reason"),
    [
        ("1279x721", "1278x720", "larger than"),
        ("1920x1080", "1280x720", "larger than"),
        ("641x361", "642x362", "not multiples of 2"),
        ("32x32", "64x64", "smaller than"),
    ],
)
def test_local_custom_size_changes_are_reported(sent: str, final: str, reason: str) -> None:
    size = entry(run(LOCAL, size=sent), "size")
    assert size.behaviour == "converted"
    assert size.requested == sent
    assert size.value["size"] == final
    assert reason in size.note and final in size.note


# -- precedence ---------------------------------------------------------------------------------


def test_pixel_size_beats_aspect_ratio_and_resolution() -> None:
    result = run(GROK, size="1024x1024", aspect_ratio="16:9", resolution="4K")
    assert result.size == "1024x1024"
    for param in ("aspect_ratio", "resolution"):
        ignored = entry(result, param)
        assert (ignored.behaviour, ignored.note, ignored.value) == ("ignored", "size takes precedence", None)
    assert params_in(result) == ["prompt", "size", "aspect_ratio", "resolution"]


def test_ratio_size_beats_aspect_ratio_but_not_resolution() -> None:
    result = run(LOCAL, size="9:16", aspect_ratio="16:9", resolution="480p")
    assert result.size == "480x854"
    assert entry(result, "aspect_ratio").behaviour == "ignored"
    assert entry(result, "resolution").value == "480p"
    assert entry(result, "size").value == {"size": "480x854", "aspect_ratio": "9:16", "resolution": "480p"}


def test_auto_size_leaves_aspect_ratio_in_charge() -> None:
    result = run(GROK, size="auto", aspect_ratio="2:3")
    assert result.size == "836x1254"
    size = entry(result, "size")
    assert size.requested == "auto"
    assert size.value["size"] == "836x1254"
    assert entry(result, "aspect_ratio").behaviour == "passthrough"


# -- auto follows the inputs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "size"),
    [((1080, 1920), "768x1365"), ((1000, 1000), "1024x1024"), ((1600, 1200), "1183x887"), (None, "1365x768")],
)
def test_i2v_auto_follows_the_image(reference: tuple[int, int] | None, size: str) -> None:
    result = run(GROK, reference_images=1, reference_size=reference)
    assert (result.mode, result.size) == ("i2v", size)


def test_i2v_auto_reports_the_choice() -> None:
    result = run(LOCAL, reference_images=1, reference_size=(800, 1200), aspect_ratio="auto", resolution="auto")
    assert result.size == "720x1080"
    assert entry(result, "aspect_ratio").value == "2:3"
    assert "input" in entry(result, "aspect_ratio").note
    assert entry(result, "resolution").value == "720p"


def test_explicit_ratio_beats_the_image_shape() -> None:
    assert run(GROK, reference_images=1, reference_size=(1080, 1920), aspect_ratio="1:1").size == "1024x1024"


def test_v2v_on_local_follows_the_video_unless_told() -> None:
    result = run(LOCAL, input_video=(640, 480, 3.25))
    assert (result.mode, result.size, result.resolution, result.seconds) == ("v2v", "640x480", "480p", 3.25)
    assert entry(result, "input_video").requested == {"width": 640, "height": 480, "seconds": 3.25}
    told = run(LOCAL, input_video=(640, 480, 3.25), size="1280x720", seconds=8)
    assert (told.size, told.seconds) == ("1280x720", 8)


@pytest.mark.parametrize(
    ("video", "seconds"),
    [((640, 480, 20.0), 15), ((640, 480, 0.4), 1), ((640, 480, 7.333333), 7.333)],
)
def test_v2v_seconds_clamp_to_the_range(video: tuple[int, int, float], seconds: float) -> None:
    assert run(LOCAL, input_video=video).seconds == seconds


def test_v2v_on_grok_keeps_the_input_and_ignores_geometry() -> None:
    result = run(GROK, input_video=(640, 480, 5.2), seconds=3, size="1024x1024", aspect_ratio="9:16")
    assert (result.mode, result.size, result.aspect_ratio, result.seconds) == ("v2v", "640x480", "4:3", 5.2)
    for param in ("seconds", "size", "aspect_ratio"):
        assert entry(result, param).behaviour == "ignored"
    assert "length" in entry(result, "seconds").note
    assert entry(result, "input_video").behaviour == "converted"


def test_v2v_on_grok_caps_a_large_input_at_the_tier() -> None:
    result = run(GROK, input_video=(1920, 1080, 4.0))
    assert result.size == "1366x768"  # 1920x1080 scaled to the 1K area, kept even
    assert result.aspect_ratio == "16:9"


def test_grok_rejects_long_input_video() -> None:
    with pytest.raises(InvalidRequest) as info:
        run(GROK, input_video=(640, 480, 9.0))
    assert info.value.param == "input_video"
    assert "8.7" in info.value.message


# -- seconds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "seconds", "behaviour"),
    [
        (5, 5, "passthrough"),
        ("5", 5, "passthrough"),
        ("5.0", 5, "passthrough"),
        ("8s", 8, "passthrough"),
        (" 8 S ", 8, "passthrough"),
        (15, 15, "passthrough"),
        (5.4, 5, "converted"),
        (5.5, 6, "converted"),
        ("0.2", 1, "converted"),
        (60, 15, "converted"),
    ],
)
def test_local_seconds(sent: object, seconds: float, behaviour: str) -> None:
    result = run(LOCAL, seconds=sent)
    assert result.seconds == seconds
    report = entry(result, "seconds")
    assert (report.behaviour, report.requested, report.value) == (behaviour, sent, seconds)
    assert isinstance(report.value, int)


def test_seconds_defaults_come_from_the_card() -> None:
    assert run(LOCAL).seconds == 5
    assert run(GROK).seconds == 6
    assert "seconds" not in params_in(run(GROK))


def test_grok_seconds_are_renamed_to_duration() -> None:
    same = entry(run(GROK, seconds=10), "seconds")
    assert (same.behaviour, same.upstream, same.value) == ("renamed", "duration", 10)
    changed = entry(run(GROK, seconds="8.4"), "seconds")
    assert (changed.behaviour, changed.value) == ("converted", 8)
    assert "nearest allowed is 8 s" in changed.note


def test_duration_alias_is_reported_under_its_own_name() -> None:
    result = run(GROK, seconds="12", seconds_field="duration")
    assert entry(result, "duration").value == 12
    assert "seconds" not in params_in(result)


@pytest.mark.parametrize("sent", ["abc", "", "0", "-3", 0, -1, math.nan, math.inf, "nan", "inf", True, "5 min"])
@pytest.mark.parametrize("field", ["seconds", "duration"])
def test_bad_seconds_name_the_field_used(sent: object, field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(GROK, seconds=sent, seconds_field=field)
    assert info.value.param == field


# -- n, seed, prompt ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "n", "behaviour", "note"),
    [
        (1, 1, "passthrough", ""),
        ("1", 1, "passthrough", ""),
        (2, 2, "emulated", "2 parallel runs"),
        ("4", 4, "emulated", "4 parallel runs"),
        (3.0, 3, "emulated", "3 parallel runs"),
    ],
)
def test_n(sent: object, n: int, behaviour: str, note: str) -> None:
    result = run(GROK, n=sent)
    assert (result.n, result.emulate_n) == (n, n > 1)
    report = entry(result, "n")
    assert (report.behaviour, report.value, report.note) == (behaviour, n, note)


def test_n_defaults_to_one_and_is_not_reported() -> None:
    result = run(GROK)
    assert (result.n, result.emulate_n) == (1, False)
    assert "n" not in params_in(result)


def test_native_n_avoids_emulation() -> None:
    card = LOCAL.model_copy(update={"native_n": 4})
    result = run(card, n=3)
    assert (result.emulate_n, entry(result, "n").behaviour) == (False, "passthrough")


@pytest.mark.parametrize("sent", [0, 5, -1, "two", "2.5", 2.5, True, "", "1e3"])
def test_bad_n(sent: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(GROK, n=sent)
    assert info.value.param == "n"
    assert "1 to 4" in info.value.message


@pytest.mark.parametrize(("sent", "seed"), [(0, 0), (42, 42), ("42", 42), (2**32 - 1, 2**32 - 1)])
def test_seed_on_local(sent: object, seed: int) -> None:
    result = run(LOCAL, seed=sent)
    assert result.seed == seed
    assert (entry(result, "seed").behaviour, entry(result, "seed").value) == ("passthrough", seed)


def test_seed_on_a_model_without_seeds_is_ignored() -> None:
    result = run(GROK, seed=7)
    assert result.seed is None
    assert entry(result, "seed").behaviour == "ignored"
    assert "does not take a seed" in entry(result, "seed").note


@pytest.mark.parametrize("sent", [-1, 2**32, "x", "1.5", 1.5, True])
@pytest.mark.parametrize("card", [LOCAL, GROK], ids=lambda c: c.id)
def test_bad_seed(card: Any, sent: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(card, seed=sent)
    assert info.value.param == "seed"


def test_prompt_is_stripped() -> None:
    result = run(GROK, prompt="  a cat \n")
    assert result.prompt == "a cat"
    assert entry(result, "prompt").value == "a cat"


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_empty_prompt(prompt: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(GROK, prompt=prompt)
    assert info.value.param == "prompt"


def test_prompt_limit_comes_from_the_card() -> None:
    assert run(GROK, prompt="x" * 4096).prompt == "x" * 4096
    with pytest.raises(InvalidRequest) as info:
        run(GROK, prompt="x" * 4097)
    assert info.value.param == "prompt"
    assert "4096" in info.value.message
    with pytest.raises(InvalidRequest, match="4000"):
        run(LOCAL, prompt="x" * 4001)


# -- malformed geometry --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"size": "abc"}, "size"),
        ({"size": "0x720"}, "size"),
        ({"size": "-5x5"}, "size"),
        ({"size": "99999x5"}, "size"),
        ({"size": "16:0"}, "size"),
        ({"aspect_ratio": "wide"}, "aspect_ratio"),
        ({"aspect_ratio": "0:1"}, "aspect_ratio"),
        ({"resolution": "huge"}, "resolution"),
        ({"resolution": "1080"}, "resolution"),
        ({"resolution": -1}, "resolution"),
    ],
)
@pytest.mark.parametrize("card", [LOCAL, GROK], ids=lambda c: c.id)
def test_malformed_geometry(card: Any, fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(card, **fields)
    assert info.value.param == param
    assert info.value.code == "invalid_request"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"size": "1024x1024", "aspect_ratio": "wide"}, "aspect_ratio"),
        ({"size": "1024x1024", "resolution": "huge"}, "resolution"),
        ({"size": "16:9", "aspect_ratio": "wide"}, "aspect_ratio"),
        ({"input_video": (640, 480, 4.0), "size": "abc"}, "size"),
    ],
)
def test_malformed_values_fail_even_when_they_would_be_ignored(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(GROK, **fields)
    assert info.value.param == param


# -- modes and inputs ----------------------------------------------------------------------------


def test_mode_follows_the_inputs() -> None:
    assert run(GROK).mode == "t2v"
    assert run(GROK, reference_images=1).mode == "i2v"
    assert run(GROK, input_video=(640, 480, 4.0)).mode == "v2v"


def test_both_image_and_video_is_ambiguous() -> None:
    with pytest.raises(InvalidRequest) as info:
        run(GROK, reference_images=1, input_video=(640, 480, 4.0))
    assert info.value.param == "input_reference"


@pytest.mark.parametrize(
    ("modes", "fields", "param"),
    [
        (["t2v", "i2v"], {"input_video": (640, 480, 4.0)}, "input_video"),
        (["t2v", "v2v"], {"reference_images": 1}, "input_reference"),
    ],
)
def test_unsupported_mode_names_the_models_modes(modes: list[str], fields: dict[str, Any], param: str) -> None:
    card = GROK.model_copy(update={"modes": modes})
    with pytest.raises(UnsupportedParameter) as info:
        run(card, **fields)
    assert info.value.param == param
    assert info.value.code == "unsupported_parameter"
    assert "text-to-video" in info.value.message


def test_a_model_that_needs_an_input() -> None:
    card = GROK.model_copy(update={"modes": ["i2v"]})
    with pytest.raises(InvalidRequest) as info:
        run(card)
    assert info.value.param == "input_reference"
    assert "image-to-video" in info.value.message


def test_too_many_reference_images() -> None:
    with pytest.raises(InvalidRequest) as info:
        run(GROK, reference_images=8)
    assert info.value.param == "input_reference"
    assert "at most 7" in info.value.message
    with pytest.raises(InvalidRequest) as refused:  # one first frame only, no references
        run(LOCAL, reference_images=2)
    assert refused.value.param == "input_reference" and "at most 1" in refused.value.message


# -- reference-to-video: images as references, not the first frame ----------------------------


def test_one_image_is_the_first_frame_and_keeps_its_shape() -> None:
    result = run(GROK, reference_images=1, reference_size=(768, 1365))
    assert result.reference_mode == "first_frame" and result.aspect_ratio == "9:16"


def test_several_images_are_references_and_do_not_set_the_shape() -> None:
    result = run(GROK, reference_images=3, reference_size=(768, 1365))
    assert result.reference_mode == "references" and result.mode == "i2v"
    assert result.aspect_ratio == "16:9"  # the card's default: a reference is not a frame to fit
    report = entry(result, "input_reference")
    assert (report.behaviour, report.requested, report.upstream) == ("converted", 3, "reference_images")
    assert report.value == {"images": 3, "used_as": "references"}


def test_reference_mode_is_explicit_when_asked() -> None:
    assert run(GROK, reference_images=1, reference_mode="references").reference_mode == "references"
    assert run(GROK, reference_images=1, reference_mode="auto").reference_mode == "first_frame"
    assert run(GROK, reference_mode="auto").reference_mode is None


@pytest.mark.parametrize(
    ("card", "fields", "param", "words"),
    [
        (GROK, {"reference_images": 2, "reference_mode": "first_frame"}, "input_reference", "animates one image"),
        (GROK, {"reference_images": 1, "reference_mode": "collage"}, "reference_mode", "must be one of"),
        (GROK, {"reference_mode": "references"}, "reference_mode", "needs input_reference"),
        (LOCAL, {"reference_images": 1, "reference_mode": "references"}, "reference_mode", "reference-to-video"),
    ],
)
def test_reference_mode_errors_name_the_field(card: Any, fields: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(card, **fields)
    assert info.value.param == param and words in info.value.message


@pytest.mark.parametrize("video", [(0, 480, 4.0), (640, -1, 4.0), (640, 480, 0.0), (640, 480, math.nan)])
def test_unusable_input_video(video: tuple[int, int, float]) -> None:
    with pytest.raises(InvalidRequest) as info:
        run(LOCAL, input_video=video)
    assert info.value.param == "input_video"


def test_input_reference_is_reported() -> None:
    report = entry(run(GROK, reference_images=1), "input_reference")
    assert (report.behaviour, report.requested, report.upstream) == ("converted", 1, "image")


# -- unknown params, identity, cost, JSON -------------------------------------------------------


def test_unknown_params_pass_through_untouched() -> None:
    extra = {"style": "noir", "guidance_scale": 7.5, "nested": {"a": [1, 2]}}
    result = run(GROK, extra=extra)
    assert result.passthrough == extra
    assert params_in(result)[-3:] == ["style", "guidance_scale", "nested"]
    for key, value in extra.items():
        report = entry(result, key)
        assert (report.behaviour, report.requested, report.value, report.upstream) == (
            "passthrough",
            value,
            value,
            key,
        )


def test_only_sent_params_are_reported() -> None:
    assert params_in(run(GROK)) == ["prompt"]
    assert params_in(run(LOCAL, seconds=4, n=2, seed=1)) == ["prompt", "seconds", "n", "seed"]


def test_identity_fields_come_from_the_card() -> None:
    result = run(CATALOG.get("grok-video"))
    assert (result.model, result.upstream_model, result.provider) == (
        "grok-imagine-video",
        "grok-imagine-video",
        "xai",
    )
    local = run(LOCAL)
    assert (local.model, local.provider, local.upstream_resolution) == ("reelay-local", "local", "720p")


@pytest.mark.parametrize(
    ("card", "fields", "cost"),
    [
        (GROK, {}, 0.3),
        (GROK, {"seconds": 10, "n": 2}, 1.0),
        (GROK, {"seconds": 15, "n": 4}, 3.0),
        (GROK_15, {"seconds": 5}, 0.4),
        (GROK_15, {"seconds": 3, "n": 3}, 0.72),
        (LOCAL, {"seconds": 15, "n": 4}, 0.0),
    ],
)
def test_cost_estimate(card: Any, fields: dict[str, Any], cost: float) -> None:
    assert run(card, **fields).cost_estimate == cost


def test_cost_uses_the_tier_price() -> None:
    card = LOCAL.model_copy(update={"price_per_second": 0.01, "price_per_second_by_tier": {"720p": 0.1234567}})
    assert run(card, seconds=3).cost_estimate == 0.37037
    assert run(card, seconds=3, resolution="480p").cost_estimate == 0.03


def test_report_json_is_json_ready() -> None:
    result = run(GROK, size="7:1", seconds="8.4", n=2, extra={"style": "noir"})
    data = result.report_json()
    assert json.loads(json.dumps(data)) == data
    assert data[0] == {
        "param": "prompt",
        "behaviour": "passthrough",
        "requested": "a red fox in the snow",
        "value": "a red fox in the snow",
        "note": GROK.params["prompt"].note,
        "upstream": "prompt",
    }
    assert [row["behaviour"] for row in data] == [
        "passthrough",
        "converted",
        "converted",
        "emulated",
        "passthrough",
    ]
    assert result.size == "1365x768"


def test_local_v2v_without_geometry_keeps_the_input_size() -> None:
    from reelay.catalog import load_catalog
    from reelay.normalize import GenerationParams, normalize

    card = load_catalog().get("reelay-local")
    same = normalize(GenerationParams(prompt="grey", input_video=(320, 240, 2.0)), card)
    assert (same.width, same.height, same.seconds) == (320, 240, 2.0)
    odd = normalize(GenerationParams(prompt="grey", input_video=(321, 181, 2.0)), card)
    assert odd.width % 2 == 0 and odd.height % 2 == 0 and abs(odd.width - 321) <= 1
    big = normalize(GenerationParams(prompt="grey", input_video=(1920, 1080, 2.0)), card)
    assert (big.width, big.height) == (1280, 720)
    asked = normalize(GenerationParams(prompt="grey", size="640x360", input_video=(320, 240, 2.0)), card)
    assert (asked.width, asked.height) == (640, 360)
