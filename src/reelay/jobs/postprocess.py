"""Runs in a media process after a video is fetched: probe it, write its poster and spritesheet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProbedOutput:
    width: int
    height: int
    seconds: float
    has_audio: bool


def postprocess_video(video: str, thumbnail: str, spritesheet: str) -> ProbedOutput:
    """Probe ``video`` (raising InvalidMedia if it is not one) and write both images next to it."""
    from reelay.engine import make_spritesheet, make_thumbnail, probe  # in the media process only

    info = probe(Path(video))
    make_thumbnail(Path(video), Path(thumbnail))
    make_spritesheet(Path(video), Path(spritesheet))
    return ProbedOutput(info.width, info.height, round(info.duration, 3), info.has_audio)
