"""Reelay's local engine: an honest procedural video renderer (no learned model, CPU only).

Text-to-video draws a seeded scene card for the prompt, image-to-video moves a camera over the
reference image, video-to-video applies keyword-chosen libavfilter edits, extend continues a video
from its last frame with that camera move. Every output is an MP4 with H.264 yuv420p video and AAC
48 kHz stereo audio. See docs/engine.md.

The names below load on first use (PEP 562), so importing one submodule (``reelay.engine.spec``,
``reelay.engine.diffusion``) does not pull PyAV, numpy and Pillow into a process that never renders.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reelay.engine.edits import describe_edits
    from reelay.engine.probe import probe, probe_image
    from reelay.engine.render import render
    from reelay.engine.spec import MediaInfo, Mode, RenderCancelled, RenderResult, RenderSpec
    from reelay.engine.thumbnails import make_spritesheet, make_thumbnail

_HOME = {
    "describe_edits": "reelay.engine.edits",
    "probe": "reelay.engine.probe",
    "probe_image": "reelay.engine.probe",
    "render": "reelay.engine.render",
    "MediaInfo": "reelay.engine.spec",
    "Mode": "reelay.engine.spec",
    "RenderCancelled": "reelay.engine.spec",
    "RenderResult": "reelay.engine.spec",
    "RenderSpec": "reelay.engine.spec",
    "make_spritesheet": "reelay.engine.thumbnails",
    "make_thumbnail": "reelay.engine.thumbnails",
}

__all__ = [
    "MediaInfo",
    "Mode",
    "RenderCancelled",
    "RenderResult",
    "RenderSpec",
    "describe_edits",
    "make_spritesheet",
    "make_thumbnail",
    "probe",
    "probe_image",
    "render",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'reelay.engine' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value
