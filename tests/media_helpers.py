"""Test media made directly with Pillow and PyAV, independent of the engine under test."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def make_image(path: Path, width: int = 640, height: int = 480) -> Path:
    """A structured picture (gradients and blocks) whose first-frame match is easy to measure."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack(
        [(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), ((x // 40 + y // 40) % 2) * 200], axis=-1
    ).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 240,
    fps: int = 24,
    audio: bool = True,
    container_format: str | None = None,
    codec: str = "libx264",
) -> Path:
    """A video with a moving bar and a tone: by default an H.264 (+ AAC) MP4; ``container_format="mov"``
    writes a QuickTime MOV, ``"webm"`` with ``codec="libvpx-vp9"`` a WebM (Opus audio)."""
    container = av.open(str(path), "w", format=container_format)
    video = container.add_stream(codec, rate=fps)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    audio_codec = "libopus" if container_format == "webm" else "aac"
    audio_stream = container.add_stream(audio_codec, rate=48000) if audio else None
    if audio_stream is not None:
        audio_stream.layout = "stereo"
    frames = round(seconds * fps)
    for i in range(frames):
        rgb = np.full((height, width, 3), 40, np.uint8)
        x = (i * 7) % width
        rgb[:, x : x + 20] = (240, 200, 30)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, fps)
        for packet in video.encode(frame):
            container.mux(packet)
    for packet in video.encode():
        container.mux(packet)
    if audio_stream is not None:
        total = round(seconds * 48000)
        t = np.arange(total) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        pcm = np.stack([tone, tone])
        step = 960 if container_format == "webm" else 1024  # Opus takes 20 ms frames
        for start in range(0, total, step):
            chunk = np.ascontiguousarray(pcm[:, start : start + step])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, start
            for packet in audio_stream.encode(frame):
                container.mux(packet)
        for packet in audio_stream.encode():
            container.mux(packet)
    container.close()
    return path


def probe(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        return {
            "duration": container.duration / 1_000_000 if container.duration else 0.0,
            "width": video.width,
            "height": video.height,
            "video_codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "audio_codec": audio.codec_context.name if audio else None,
            "sample_rate": audio.codec_context.sample_rate if audio else None,
            "channels": audio.codec_context.channels if audio else None,
        }


def first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="rgb24")
    raise AssertionError("no frames")
