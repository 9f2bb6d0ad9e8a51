"""Extend: the joined clip keeps the input, then continues from its last frame with a camera move."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_media import VideoFactory, assert_mp4_contract, decode_audio, decode_rgb, mean_abs_diff

from reelay.engine import RenderCancelled, RenderSpec, probe, render
from reelay.engine.extend import MAX_TOTAL_SECONDS
from reelay.errors import InvalidRequest


def extend(video: Path, seconds: float = 1.0, **kwargs: object) -> RenderSpec:
    base: dict[str, object] = {"width": 160, "height": 120, "seconds": seconds, "video_path": video}
    base.update(kwargs)
    return RenderSpec("extend", "the camera drifts on", **base)  # type: ignore[arg-type]


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm[0]))
    return float(np.fft.rfftfreq(pcm.shape[1], 1 / rate)[int(np.argmax(spectrum))])


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(pcm))))


def test_output_is_the_input_then_the_added_seconds(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    result = render(extend(clip, 1.5), out)
    assert result.edit == "extend"
    assert_mp4_contract(out, 160, 120, 2.0 + 1.5)
    source, joined = decode_rgb(clip), decode_rgb(out)
    assert len(joined) == len(source) + 36
    for i in (0, 1, 2, len(source) // 2, len(source) - 1):
        assert mean_abs_diff(joined[i], source[i]) < 4, f"input frame {i} is kept"


def test_added_part_starts_at_the_last_frame_and_moves(tmp_path: Path, make_video: VideoFactory) -> None:
    source_path = make_video(seconds=1.0)  # brightens frame by frame: first and last frames differ
    out = tmp_path / "out.mp4"
    render(extend(source_path, 2.0, audio=False), out)
    source, joined = decode_rgb(source_path), decode_rgb(out)
    seam = joined[len(source)]
    assert mean_abs_diff(source[0], source[-1]) > 20
    assert mean_abs_diff(seam, source[-1]) < 3, "the first added frame continues from the last input frame"
    assert mean_abs_diff(joined[len(source) + 1], seam) < 3, "no jump right after the seam"
    assert mean_abs_diff(joined[-1], source[-1]) > 5, "the camera has moved by the end"
    steps = [mean_abs_diff(a, b) for a, b in zip(joined[len(source) :], joined[len(source) + 1 :], strict=False)]
    assert max(steps) < 4, "the move is smooth"


def test_input_audio_is_kept_then_the_bed_takes_over(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    render(extend(clip, 2.0), out)
    pcm, rate = decode_audio(out)
    assert rate == 48_000 and pcm.shape[0] == 2
    assert abs(pcm.shape[1] / rate - 4.0) <= 0.1
    head, added = pcm[:, : int(1.6 * rate)], pcm[:, int(2.4 * rate) : int(3.5 * rate)]
    assert dominant_hz(head, rate) == pytest.approx(440, abs=5), "the input's tone is kept"
    assert rms(added) > 0.01, "the added part has sound"
    assert abs(dominant_hz(added, rate) - 440) > 5, "the added part is the ambient bed, not the tone"
    seam = pcm[:, int(1.95 * rate) : int(2.05 * rate)]
    assert float(np.max(np.abs(seam))) < 0.9, "the cross-fade does not clip"


def test_input_without_audio(tmp_path: Path, make_video: VideoFactory) -> None:
    source = make_video(audio_rate=None, seconds=1.0)
    out = tmp_path / "bed.mp4"
    render(extend(source, 1.0), out)
    assert_mp4_contract(out, 160, 120, 2.0)
    pcm, _ = decode_audio(out)
    assert rms(pcm) > 0.01, "the whole clip gets the ambient bed"
    silent = render(extend(source, 1.0, audio=False), tmp_path / "none.mp4").info
    assert not silent.has_audio and abs(silent.duration - 2.0) <= 0.1


def test_odd_size_vfr_mono_44k_input(tmp_path: Path, make_video: VideoFactory) -> None:
    source = make_video(width=161, height=121, pix_fmt="yuv444p", vfr=True, audio_rate=44_100, audio_layout="mono")
    src_info = probe(source)
    out = tmp_path / "out.mp4"
    render(extend(source, 1.0), out)
    frames = probe(out).frames
    assert_mp4_contract(out, 160, 120, frames / 24)
    assert abs(frames / 24 - (src_info.duration + 1.0)) <= 0.1


def test_output_size_is_cover_fitted(tmp_path: Path, clip: Path) -> None:
    info = render(extend(clip, 1.0, width=96, height=128, audio=False), tmp_path / "out.mp4").info
    assert (info.width, info.height, info.frames) == (96, 128, 72)


def test_total_is_capped_by_dropping_the_inputs_head(tmp_path: Path, make_video: VideoFactory) -> None:
    source_path = make_video(width=64, height=64, seconds=20.0, fps=12)  # frame 0 dark, later ones bright
    out = tmp_path / "out.mp4"
    info = render(extend(source_path, 15.0, width=64, height=64), out).info
    assert abs(info.duration - MAX_TOTAL_SECONDS) <= 0.1 and info.frames == 30 * 24
    source, joined = decode_rgb(source_path), decode_rgb(out)
    assert mean_abs_diff(joined[0], source[-1]) < 4, "the output starts 5 s into the input"
    assert mean_abs_diff(joined[0], source[0]) > 20


def test_same_prompt_and_seed_give_the_same_move(tmp_path: Path, clip: Path) -> None:
    a = decode_rgb(render(extend(clip, 1.0, seed=4, audio=False), tmp_path / "a.mp4").path)
    b = decode_rgb(render(extend(clip, 1.0, seed=4, audio=False), tmp_path / "b.mp4").path)
    moved = [
        decode_rgb(render(extend(clip, 1.0, seed=s, audio=False), tmp_path / f"{s}.mp4").path)[-1] for s in range(8)
    ]
    assert mean_abs_diff(a[-1], b[-1]) == 0
    assert max(mean_abs_diff(m, a[-1]) for m in moved) > 2, "other seeds drift another way"


def test_progress_is_reported_up_to_one(tmp_path: Path, clip: Path) -> None:
    seen: list[float] = []
    render(extend(clip, 1.0, audio=False), tmp_path / "out.mp4", progress=seen.append)
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == 1.0


def test_cancelling_an_extension_leaves_no_file(tmp_path: Path, clip: Path) -> None:
    for stop_after in (5, 110):  # during the input part, during the added part (120 polls in all)
        calls = iter(range(1000))
        with pytest.raises(RenderCancelled):
            render(extend(clip, 1.0), tmp_path / "out.mp4", should_stop=lambda c=calls, n=stop_after: next(c) >= n)
        assert list(tmp_path.iterdir()) == []


def test_spec_validation() -> None:
    with pytest.raises(InvalidRequest, match="needs the video"):
        RenderSpec("extend", "more", 160, 120, 2.0)
    with pytest.raises(InvalidRequest, match="seconds"):
        RenderSpec("extend", "more", 160, 120, 16.0, video_path=Path("in.mp4"))
