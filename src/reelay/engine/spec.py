"""The engine's contract types: what a caller asks for and what it gets back.

Validation lives here so every renderer can trust a ``RenderSpec`` it receives; limits are the
ones the gateway advertises for its local engine (720p, 15 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reelay.errors import InvalidRequest

Mode = Literal["t2v", "i2v", "v2v", "extend"]

MIN_SIDE = 64
MAX_LONG_SIDE = 1280
MAX_SHORT_SIDE = 720
MIN_SECONDS = 1.0
MAX_SECONDS = 15.0
MAX_FPS = 60
AUDIO_RATE = 48_000
AUDIO_CHANNELS = 2


@dataclass(frozen=True)
class RenderSpec:
    """One render request. For ``v2v`` the output keeps the input's duration (capped at 15 s);
    ``seconds`` is only a hint there, because an edit should not silently cut a clip. For
    ``extend`` ``video_path`` is the input and ``seconds`` the length ADDED to it (the output is
    input + seconds, capped at 30 s; see ``extend``)."""

    mode: Mode
    prompt: str
    width: int
    height: int
    seconds: float
    seed: int = 0
    fps: int = 24
    audio: bool = True
    image_path: Path | None = None
    video_path: Path | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("t2v", "i2v", "v2v", "extend"):
            raise InvalidRequest(f"mode must be t2v, i2v, v2v or extend, not {self.mode!r}", param="mode")
        for name, side in (("width", self.width), ("height", self.height)):
            if side % 2 or not MIN_SIDE <= side <= MAX_LONG_SIDE:
                raise InvalidRequest(
                    f"{name} must be an even number between {MIN_SIDE} and {MAX_LONG_SIDE}, got {side}",
                    param="size",
                )
        if min(self.width, self.height) > MAX_SHORT_SIDE:
            raise InvalidRequest(
                f"size {self.width}x{self.height} is above 720p; use at most 1280x720 or 720x1280",
                param="size",
            )
        if not MIN_SECONDS <= self.seconds <= MAX_SECONDS:
            raise InvalidRequest(
                f"seconds must be between {MIN_SECONDS:g} and {MAX_SECONDS:g}, got {self.seconds}",
                param="seconds",
            )
        if not 1 <= self.fps <= MAX_FPS:
            raise InvalidRequest(f"fps must be between 1 and {MAX_FPS}, got {self.fps}", param="fps")
        if self.mode == "i2v" and self.image_path is None:
            raise InvalidRequest("image-to-video needs a reference image", param="input_reference")
        if self.mode == "v2v" and self.video_path is None:
            raise InvalidRequest("video-to-video needs an input video", param="input_reference")
        if self.mode == "extend" and self.video_path is None:
            raise InvalidRequest("an extension needs the video to extend", param="video")

    @property
    def frame_count(self) -> int:
        """Frames for a t2v/i2v clip (or an extension's added part): seconds at a constant rate, at least one."""
        return max(1, round(self.seconds * self.fps))


@dataclass(frozen=True)
class MediaInfo:
    """What ``probe`` learned about a video file."""

    duration: float
    width: int
    height: int
    fps: float
    frames: int
    video_codec: str
    audio_codec: str | None
    has_audio: bool
    audio_sample_rate: int | None
    audio_channels: int | None


@dataclass(frozen=True)
class RenderResult:
    """A finished render: the file, its probed facts, and the v2v edit names applied ("extend" for an
    extension; else None)."""

    path: Path
    info: MediaInfo
    edit: str | None


class RenderCancelled(Exception):
    """Raised by ``render`` when ``should_stop()`` turned true; the partial file is already gone."""
