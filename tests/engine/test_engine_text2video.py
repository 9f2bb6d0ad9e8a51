"""Text-to-video and the output contract every mode shares (checked by probing and decoding)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_media import assert_mp4_contract, decode_audio, decode_rgb, mean_abs_diff

from reelay.engine import RenderCancelled, RenderSpec, render
from reelay.engine.audio import ambient_bed
from reelay.engine.scene import look_for, theme_for
from reelay.engine.title import wrap
from reelay.errors import InvalidRequest


def t2v(prompt: str = "snow over a quiet forest", **kwargs: object) -> RenderSpec:
    base: dict[str, object] = {"width": 160, "height": 96, "seconds": 1.0}
    base.update(kwargs)
    return RenderSpec("t2v", prompt, **base)  # type: ignore[arg-type]


def test_t2v_meets_the_output_contract(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    result = render(t2v(seconds=2.0), out)
    assert result.path == out and result.edit is None
    assert_mp4_contract(out, 160, 96, 2.0)
    pcm, _ = decode_audio(out)
    assert 0.05 < float(np.max(np.abs(pcm))) < 1.0, "audible and not clipped"


def test_t2v_720p(tmp_path: Path) -> None:
    out = tmp_path / "720p.mp4"
    render(t2v("a neon city street in the rain", width=1280, height=720, seconds=1.0), out)
    assert_mp4_contract(out, 1280, 720, 1.0)


def test_portrait_and_other_fps(tmp_path: Path) -> None:
    out = tmp_path / "portrait.mp4"
    render(t2v(width=96, height=160, seconds=1.5, fps=30), out)
    assert_mp4_contract(out, 96, 160, 1.5, fps=30)


def test_same_prompt_and_seed_give_identical_frames(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render(t2v(seed=7), a)
    render(t2v(seed=7), b)
    for fa, fb in zip(decode_rgb(a), decode_rgb(b), strict=True):
        assert np.array_equal(fa, fb)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("snow over a quiet forest", "a campfire burning at night"),
        ("an ocean wave at noon", "a neon city street"),
        ("a purple cat made of jelly", "quarterly sales meeting recap"),
    ],
)
def test_different_prompts_look_different(tmp_path: Path, first: str, second: str) -> None:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render(t2v(first, audio=False), a)
    render(t2v(second, audio=False), b)
    assert mean_abs_diff(decode_rgb(a)[12], decode_rgb(b)[12]) > 20


def test_seed_changes_the_video(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render(t2v(seed=1, audio=False), a)
    render(t2v(seed=2, audio=False), b)
    assert mean_abs_diff(decode_rgb(a)[12], decode_rgb(b)[12]) > 2


def test_frames_move(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    render(t2v("rain on a city", audio=False), out)
    frames = decode_rgb(out)
    assert mean_abs_diff(frames[1], frames[-1]) > 3


def test_audio_can_be_left_out(tmp_path: Path) -> None:
    out = tmp_path / "silent.mp4"
    info = render(t2v(audio=False), out).info
    assert not info.has_audio and info.audio_codec is None


def test_ambient_bed_is_deterministic_normalised_and_prompt_keyed() -> None:
    a = ambient_bed("rain on the roof", 3, 1.0)
    assert a.shape == (2, 48_000) and a.dtype == np.float32
    assert np.array_equal(a, ambient_bed("rain on the roof", 3, 1.0))
    assert 0.4 < float(np.max(np.abs(a))) <= 0.5
    assert not np.array_equal(a, ambient_bed("rain on the roof", 4, 1.0))
    assert not np.allclose(a, ambient_bed("a campfire", 3, 1.0), atol=0.05)
    assert abs(float(a[0, 0])) < 1e-3, "fades in from silence"


def test_progress_is_throttled_monotonic_and_ends_at_one(tmp_path: Path) -> None:
    seen: list[float] = []
    render(t2v(seconds=2.0), tmp_path / "out.mp4", progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen) and all(0.0 <= f <= 1.0 for f in seen)
    assert 5 <= len(seen) <= 22


def test_cancel_removes_the_partial_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous")
    calls = iter(range(1000))
    with pytest.raises(RenderCancelled):
        render(t2v(seconds=2.0), out, should_stop=lambda: next(calls) >= 10)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 161},
        {"width": 1282},
        {"height": 32},
        {"width": 1280, "height": 1280},
        {"seconds": 0.5},
        {"seconds": 16},
        {"fps": 0},
    ],
)
def test_invalid_specs_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        t2v(**kwargs)


def test_i2v_and_v2v_need_their_input() -> None:
    with pytest.raises(InvalidRequest):
        RenderSpec("i2v", "x", 160, 96, 1.0)
    with pytest.raises(InvalidRequest):
        RenderSpec("v2v", "x", 160, 96, 1.0)


def test_scene_words_pick_themes_and_unknown_prompts_hash() -> None:
    assert theme_for("Heavy SNOW at night") == "snow"
    assert theme_for("the night sky over the ocean") == "night"
    assert theme_for("quarterly sales meeting") is None
    assert look_for("quarterly sales", 0) != look_for("a purple cat", 0)
    assert look_for("quarterly sales", 0) == look_for("quarterly sales", 0)


def test_titles_wrap_to_three_lines() -> None:
    from PIL import ImageFont

    font = ImageFont.load_default(size=20)
    lines = wrap("word " * 200 + "x" * 300, font, 200)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 200 for line in lines)
