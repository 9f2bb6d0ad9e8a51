"""Runs in a media process on a fetched video: probe it, and make its poster and spritesheet.

The API process never opens a fetched video itself: FFmpeg parsing untrusted media runs here, under
the pool's memory limit, in a process that can crash alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reelay.errors import InvalidMedia

# Imports stay this light: the media process loads this module to run its tasks (``reelay.storage``,
# reached through ``jobs.layout``, would bring asyncio and ssl, 6 MiB, into it).
PreviewKind = Literal["thumbnail", "spritesheet"]


@dataclass(frozen=True)
class ProbedOutput:
    width: int
    height: int
    seconds: float
    has_audio: bool


def probe_output(video: str) -> ProbedOutput:
    """Probe ``video``, raising InvalidMedia if it is not one."""
    from reelay.engine import probe  # in the media process only

    info = probe(Path(video))
    return ProbedOutput(info.width, info.height, round(info.duration, 3), info.has_audio)


def make_preview(video: str, image: str, kind: PreviewKind) -> None:
    """Write ``video``'s poster (``thumbnail``) or ``spritesheet`` JPEG to ``image``; InvalidMedia if
    no frame decodes. PyAV's own errors are not sent back as they are: unpickling one would import
    PyAV, FFmpeg's libraries with it, into the API process."""
    from reelay.engine import make_spritesheet, make_thumbnail  # in the media process only

    try:
        (make_thumbnail if kind == "thumbnail" else make_spritesheet)(Path(video), Path(image))
    except (InvalidMedia, MemoryError):
        raise
    except Exception as error:  # a decoder's error: the video's fault, whatever its type
        raise InvalidMedia(f"its frames do not decode ({type(error).__name__}: {error})") from None


def postprocess_video(video: str, thumbnail: str, spritesheet: str) -> ProbedOutput:
    """Probe ``video`` and write both images next to it (collection when previews are made eagerly)."""
    info = probe_output(video)
    make_preview(video, thumbnail, "thumbnail")
    make_preview(video, spritesheet, "spritesheet")
    return info
