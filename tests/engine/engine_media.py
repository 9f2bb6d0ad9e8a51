"""Helpers for the engine tests: write small test clips, decode outputs, compare frames."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelay.engine import probe

VideoFactory = Callable[..., Path]


def pattern_frame(width: int, height: int, index: int) -> np.ndarray:
    """A left/right-asymmetric colour pattern whose brightness rises with ``index``."""
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    level = min(1.0, 0.15 + 0.04 * index)
    rgb = np.stack([x * 255 * np.ones_like(y), y * 200 * np.ones_like(x), (1 - x) * 120 * np.ones_like(y)], -1)
    rgb = rgb * level
    rgb[: height // 3, : width // 4] = (255, 40, 40)  # a red block top-left: shows mirroring
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write_video(
    path: Path,
    *,
    width: int = 160,
    height: int = 120,
    seconds: float = 2.0,
    fps: int = 24,
    audio_rate: int | None = 48_000,
    audio_layout: str = "stereo",
    tone_hz: float = 440.0,
    pix_fmt: str = "yuv420p",
    vfr: bool = False,
) -> Path:
    """An H.264 MP4 test clip; ``vfr`` gives irregular frame timestamps (1 ms time base)."""
    frames = round(seconds * fps)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.options = {"preset": "ultrafast"}
        if vfr:
            video.time_base = video.codec_context.time_base = Fraction(1, 1000)
        audio = None
        if audio_rate is not None:
            audio = container.add_stream("aac", rate=audio_rate)
            audio.layout = audio_layout
        rng = np.random.default_rng(3)
        t_ms = 0
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(pattern_frame(width, height, i), format="rgb24")
            if vfr:
                frame.pts, frame.time_base = t_ms, Fraction(1, 1000)
                t_ms += int(rng.choice([20, 42, 60]))
            else:
                frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            assert audio_rate is not None
            channels = 1 if audio_layout == "mono" else 2
            total = round((t_ms / 1000 if vfr else seconds) * audio_rate)
            t = np.arange(total) / audio_rate
            pcm = (0.4 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
            pcm = np.repeat(pcm[None, :], channels, axis=0)
            for start in range(0, total, 1024):
                chunk = np.ascontiguousarray(pcm[:, start : start + 1024])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=audio_layout)
                af.sample_rate, af.pts, af.time_base = audio_rate, start, Fraction(1, audio_rate)
                for packet in audio.encode(af):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return path


def decode_rgb(path: Path) -> list[np.ndarray]:
    """Every frame of ``path`` as an RGB array."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """The whole audio track as (channels, n) float32, and its sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        return np.concatenate(chunks, axis=1), stream.sample_rate


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def assert_mp4_contract(path: Path, width: int, height: int, seconds: float, fps: int = 24) -> None:
    """H.264 yuv420p at exactly width x height, constant fps, re-stamped pts, AAC 48 kHz stereo, faststart."""
    data = path.read_bytes()
    assert data[4:8] == b"ftyp"
    assert data.find(b"moov") < data.find(b"mdat"), "moov atom must precede mdat (+faststart)"
    info = probe(path)
    assert (info.width, info.height) == (width, height)
    assert info.video_codec == "h264"
    assert info.fps == pytest.approx(fps)
    assert abs(info.duration - seconds) <= 0.1
    assert info.frames == round(seconds * fps)
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("aac", 48_000, 2)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.format.name == "yuv420p"
        assert float(stream.average_rate) == pytest.approx(fps)
        times = [frame.time for frame in container.decode(stream)]
    assert times == pytest.approx([i / fps for i in range(len(times))], abs=1e-3)
    pcm, rate = decode_audio(path)
    assert rate == 48_000 and pcm.shape[0] == 2
    assert abs(pcm.shape[1] / rate - seconds) <= 0.1
