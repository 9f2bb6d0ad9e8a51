"""Reelay's local engine: an honest procedural video renderer (no learned model, CPU only).

Text-to-video draws a seeded scene card for the prompt, image-to-video moves a camera over the
reference image, video-to-video applies keyword-chosen libavfilter edits, extend continues a video
from its last frame with that camera move. Every output is an MP4 with H.264 yuv420p video and AAC
48 kHz stereo audio. See docs/engine.md.

The names below load on first use: importing a light submodule (``engine.diffusion.task``, the
gateway's route to the diffusers engine) must not pull PyAV, numpy and Pillow into the API process.
``probe`` and ``render`` are both submodules and the functions exported under their names; the
package keeps the functions bound whichever is imported first (see ``_Package``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reelay.engine.edits import describe_edits
    from reelay.engine.probe import probe, probe_image
    from reelay.engine.render import render
    from reelay.engine.spec import MediaInfo, Mode, RenderCancelled, RenderResult, RenderSpec
    from reelay.engine.thumbnails import make_spritesheet, make_thumbnail

_SOURCES = {
    "MediaInfo": "spec",
    "Mode": "spec",
    "RenderCancelled": "spec",
    "RenderResult": "spec",
    "RenderSpec": "spec",
    "describe_edits": "edits",
    "make_spritesheet": "thumbnails",
    "make_thumbnail": "thumbnails",
    "probe": "probe",
    "probe_image": "probe",
    "render": "render",
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
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{source}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Importing ``reelay.engine.probe`` (the module) binds it on the package as ``probe``; that would
    shadow the exported function, so the binding is dropped and ``__getattr__`` answers instead."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _SOURCES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
