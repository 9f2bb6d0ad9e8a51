"""Frames in and out of the engine: input images and videos as PIL frames, output arrays as RGB.

Inputs are fitted to the output size (scaled to cover, centre-cropped) because every pipeline wants
exactly ``height`` x ``width``; input videos are resampled to the model's frame rate by timestamp.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageOps

from reelay.engine.probe import load_image
from reelay.engine.spec import AUDIO_RATE


def fitted_image(path: Path, width: int, height: int) -> Image.Image:
    return ImageOps.fit(load_image(path), (width, height), Image.Resampling.LANCZOS)


def video_frames(path: Path, fps: int, width: int, height: int, limit: int | None = None) -> list[Image.Image]:
    """The video's frames at ``fps`` (by timestamp: repeated or dropped as needed), fitted to the size."""
    frames: list[Image.Image] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            # Every output slot up to this frame's time shows it (frames are repeated or dropped).
            slots = 0
            while (len(frames) + slots) / fps <= frame.time + 1e-6 and (limit is None or len(frames) + slots < limit):
                slots += 1
            if slots:
                picture = ImageOps.fit(Image.fromarray(frame.to_ndarray(format="rgb24")), (width, height))
                frames.extend([picture] * slots)
            if limit is not None and len(frames) >= limit:
                break
    if not frames:
        raise ValueError(f"{path.name} has no decodable video frames")
    return frames


def rgb_frames(frames: Any) -> np.ndarray:
    """A pipeline's output video (floats in 0..1, or PIL images) as uint8 (frames, height, width, 3)."""
    if isinstance(frames, list):
        return np.stack([np.asarray(image.convert("RGB")) for image in frames])
    array = np.asarray(frames, dtype=np.float32)
    return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def stereo_48k(audio: Any, sample_rate: int) -> np.ndarray:
    """A model's soundtrack (mono or (channels, samples), any rate) as float32 stereo at 48 kHz."""
    pcm = np.asarray(audio, dtype=np.float32)
    pcm = pcm.reshape(1, -1) if pcm.ndim == 1 else pcm.reshape(pcm.shape[-2], pcm.shape[-1])
    if pcm.shape[0] > pcm.shape[1]:  # (samples, channels)
        pcm = pcm.T
    pcm = np.repeat(pcm[:1], 2, axis=0) if pcm.shape[0] == 1 else pcm[:2]
    if sample_rate != AUDIO_RATE:
        count = round(pcm.shape[1] * AUDIO_RATE / sample_rate)
        source = np.arange(pcm.shape[1]) / sample_rate
        target = np.arange(count) / AUDIO_RATE
        pcm = np.stack([np.interp(target, source, channel) for channel in pcm])
    return np.clip(pcm, -1.0, 1.0).astype(np.float32)
