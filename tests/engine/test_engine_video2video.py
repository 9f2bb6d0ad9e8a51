"""Video-to-video: keyword edits, timing changes, kept audio, awkward inputs."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from engine_media import VideoFactory, assert_mp4_contract, decode_audio, decode_rgb, mean_abs_diff

from reelay.engine import RenderCancelled, RenderSpec, describe_edits, probe, render
from reelay.engine.edits import plan_edits
from reelay.errors import InvalidMedia


def v2v(video: Path, prompt: str, **kwargs: object) -> RenderSpec:
    base: dict[str, object] = {"width": 160, "height": 120, "seconds": 4.0, "video_path": video}
    base.update(kwargs)
    return RenderSpec("v2v", prompt, **base)  # type: ignore[arg-type]


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm[0]))
    return float(np.fft.rfftfreq(pcm.shape[1], 1 / rate)[int(np.argmax(spectrum))])


def test_grayscale_keeps_duration_and_audio(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    result = render(v2v(clip, "make it black and white"), out)
    assert result.edit == "grayscale"
    assert_mp4_contract(out, 160, 120, 2.0)
    with av.open(str(out)) as container:
        yuv = next(container.decode(video=0)).to_ndarray(format="yuv420p")
    chroma = yuv[120:]
    assert abs(float(chroma.mean()) - 128) < 3 and float(chroma.std()) < 3
    pcm, rate = decode_audio(out)
    assert dominant_hz(pcm, rate) == pytest.approx(440, abs=5), "the input's tone is kept"


def test_vintage_tints_sepia(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    assert render(v2v(clip, "old film look"), out).edit == "vintage"
    rgb = decode_rgb(out)[10].reshape(-1, 3).mean(axis=0)
    assert rgb[0] > rgb[1] > rgb[2], "sepia: red > green > blue"


@pytest.mark.parametrize(("prompt", "speed"), [("speed it up, faster", 2.0), ("slow motion please", 0.5)])
def test_speed_edits_change_duration_and_keep_pitch(tmp_path: Path, clip: Path, prompt: str, speed: float) -> None:
    out = tmp_path / "out.mp4"
    result = render(v2v(clip, prompt), out)
    assert result.edit in ("speed_up", "slow_motion")
    assert_mp4_contract(out, 160, 120, 2.0 / speed)
    pcm, rate = decode_audio(out)
    assert dominant_hz(pcm[:, rate // 4 : -rate // 4], rate) == pytest.approx(440, abs=8), "atempo keeps pitch"


def test_reverse_plays_backwards(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    assert render(v2v(clip, "play it in reverse"), out).edit == "reverse"
    source, edited = decode_rgb(clip), decode_rgb(out)
    assert len(edited) == len(source)
    assert mean_abs_diff(edited[0], source[-1]) < 6
    assert mean_abs_diff(edited[-1], source[0]) < 6


def test_mirror_flips_left_to_right(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    assert render(v2v(clip, "mirror it"), out).edit == "mirror"
    source, edited = decode_rgb(clip), decode_rgb(out)
    assert mean_abs_diff(edited[5], source[5][:, ::-1]) < 6


@pytest.mark.parametrize(("prompt", "edit"), [("blur it, dreamy", "blur"), ("sharpen", "sharpen"), ("zoom in", "zoom")])
def test_look_edits_change_the_picture(tmp_path: Path, clip: Path, prompt: str, edit: str) -> None:
    out = tmp_path / "out.mp4"
    assert render(v2v(clip, prompt, audio=False), out).edit == edit
    assert mean_abs_diff(decode_rgb(out)[5], decode_rgb(clip)[5]) > 1.0


def test_keywords_combine_and_default_grade(tmp_path: Path, clip: Path) -> None:
    plan = plan_edits("slow motion, black and white and mirrored")
    assert plan.name == "grayscale+slow_motion+mirror" and plan.speed == 0.5
    assert plan_edits("faster, no wait, slow motion").name == "speed_up"
    assert plan_edits("make it pop").name.startswith("grade_")
    assert plan_edits("make it pop") == plan_edits("make it pop")
    out = tmp_path / "out.mp4"
    result = render(v2v(clip, "make it pop"), out)
    assert result.edit is not None and result.edit.startswith("grade_")
    assert mean_abs_diff(decode_rgb(out)[5], decode_rgb(clip)[5]) > 1.0


def test_output_is_cover_fitted_to_the_requested_size(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    render(v2v(clip, "grayscale", width=96, height=128), out)
    info = probe(out)
    assert (info.width, info.height) == (96, 128)


def test_odd_size_vfr_mono_44k_input(tmp_path: Path, make_video: VideoFactory) -> None:
    source = make_video(width=161, height=121, pix_fmt="yuv444p", vfr=True, audio_rate=44_100, audio_layout="mono")
    src_info = probe(source)
    assert (src_info.width, src_info.audio_channels, src_info.audio_sample_rate) == (161, 1, 44_100)
    out = tmp_path / "out.mp4"
    render(v2v(source, "vintage"), out)
    frames = probe(out).frames
    assert_mp4_contract(out, 160, 120, frames / 24)
    assert abs(frames / 24 - src_info.duration) <= 0.1


def test_input_without_audio_gets_the_ambient_bed_or_none(tmp_path: Path, make_video: VideoFactory) -> None:
    source = make_video(audio_rate=None, seconds=1.0)
    with_bed = render(v2v(source, "grayscale"), tmp_path / "bed.mp4").info
    assert with_bed.has_audio and with_bed.audio_channels == 2
    silent = render(v2v(source, "grayscale", audio=False), tmp_path / "none.mp4").info
    assert not silent.has_audio


def test_output_is_capped_at_15_seconds(tmp_path: Path, make_video: VideoFactory) -> None:
    source = make_video(width=64, height=64, seconds=8.0, fps=12)
    info = render(v2v(source, "slow motion", width=64, height=64), tmp_path / "out.mp4").info
    assert info.frames == 15 * 24 and abs(info.duration - 15.0) <= 0.1


def test_unreadable_videos_are_invalid_media(tmp_path: Path, reference_image: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01 definitely not a video" * 50)
    for path in (junk, reference_image):
        with pytest.raises(InvalidMedia, match="not a readable video"):
            probe(path)
    with pytest.raises(InvalidMedia):
        render(v2v(junk, "grayscale"), tmp_path / "out.mp4")
    assert list(tmp_path.glob("*out.mp4*")) == []


def test_describe_edits_lists_every_edit() -> None:
    described = describe_edits()
    for name in (
        "grayscale",
        "vintage",
        "blur",
        "sharpen",
        "speed_up",
        "slow_motion",
        "reverse",
        "mirror",
        "zoom",
        "grade",
    ):
        assert described[name]
    assert "'sepia'" in described["vintage"]


def test_cancelling_an_edit_leaves_no_file(tmp_path: Path, clip: Path) -> None:
    calls = iter(range(1000))
    with pytest.raises(RenderCancelled):
        render(v2v(clip, "reverse"), tmp_path / "out.mp4", should_stop=lambda: next(calls) >= 5)
    assert list(tmp_path.iterdir()) == []
