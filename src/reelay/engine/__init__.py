"""Reelay's local engine: an honest procedural video renderer (no learned model, CPU only).

Text-to-video draws a seeded scene card for the prompt, image-to-video moves a camera over the
reference image, video-to-video applies keyword-chosen libavfilter edits, extend continues a video
from its last frame with that camera move. Every output is an MP4 with H.264 yuv420p video and AAC
48 kHz stereo audio. See docs/engine.md.
"""

from reelay.engine.edits import describe_edits
from reelay.engine.probe import probe, probe_image
from reelay.engine.render import render
from reelay.engine.spec import MediaInfo, Mode, RenderCancelled, RenderResult, RenderSpec
from reelay.engine.thumbnails import make_spritesheet, make_thumbnail

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
