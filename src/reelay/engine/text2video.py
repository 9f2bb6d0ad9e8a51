"""Text-to-video: a procedural, seeded scene card for the prompt (not a learned model).

Per clip: pick a look from the prompt (``scene``), paint a panorama once (``backdrop``), seed a
particle field (``particles``) and render the title once (``title``). Per frame: copy a sliding
window of the panorama (the camera pan), draw particles, paste the title. Everything that can be
computed once is, so frame synthesis overlaps comfortably with x264's own encoder threads. Renders
draw straight into yuv420p planes (``yuv``): the panorama is converted once, not every frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import av
import numpy as np
from PIL import Image

from reelay.engine.backdrop import paint_backdrop
from reelay.engine.frames import Canvas
from reelay.engine.panorama import YuvPanorama
from reelay.engine.particles import ParticleField
from reelay.engine.scene import look_for
from reelay.engine.seeding import derive_seed
from reelay.engine.spec import RenderSpec
from reelay.engine.title import render_title
from reelay.engine.yuv import Surface, YuvFrame

PAN_PER_FRAME_720P = 2  # whole pixels per frame at 720p: integer steps never judder
TITLE_FADE_SECONDS = 0.6


def text_frames(spec: RenderSpec) -> Iterator[Image.Image]:
    """Yield ``spec.frame_count`` RGB frames of exactly ``spec.width`` x ``spec.height`` (RGBA, opaque).

    The reference rendering (renders use ``text_video_frames``, which draws the same picture in
    yuv420p). Deterministic in (prompt, seed): the same pair always gives identical pixels. The
    caller must be done with each frame before asking for the next: one canvas is redrawn for
    every frame, so no frame allocates (copy a frame to keep it).
    """
    scene = _Scene(spec)
    canvas = Canvas(spec.width, spec.height)
    panorama = scene.panorama.convert(canvas.image.mode)
    surfaces = (Surface(canvas.image),)
    for i in range(spec.frame_count):
        canvas.image.paste(panorama, (-scene.offset(i), 0))  # the window of the panorama: pasting clips the rest
        scene.decorate(surfaces, i)
        yield canvas.image


def text_video_frames(spec: RenderSpec) -> Iterator[av.VideoFrame]:
    """The same frames as new yuv420p ``av.VideoFrame``s, drawn straight into their planes.

    The panorama is converted once (``YuvPanorama``); particles and the title are drawn on the
    Y, Cb and Cr planes, so no frame goes through an RGB canvas or a colour conversion.
    """
    scene = _Scene(spec)
    panorama = YuvPanorama(scene.panorama)
    for i in range(spec.frame_count):
        frame = YuvFrame(spec.width, spec.height)
        panorama.window(frame, scene.offset(i))
        scene.decorate(frame.surfaces, i)
        yield frame.frame


class _Scene:
    """One clip's scene, made once: panorama, particles, title and the camera's pan."""

    def __init__(self, spec: RenderSpec) -> None:
        width, height, n = spec.width, spec.height, spec.frame_count
        rng = np.random.default_rng(derive_seed(spec.prompt, spec.seed, "t2v"))
        look = look_for(spec.prompt, spec.seed)
        self.step = max(1, round(PAN_PER_FRAME_720P * min(width, height) / 720))
        self.pan = self.step * (n - 1)
        self.panorama = paint_backdrop(look, width, height, self.pan, rng)
        self.particles = ParticleField(look, width, height, rng)
        self.title = render_title(spec.prompt, width, height)
        self.leftwards = bool(rng.integers(0, 2))
        self.fade_frames = max(1, round(TITLE_FADE_SECONDS * spec.fps))
        self.fps = spec.fps

    def offset(self, i: int) -> int:
        """Where frame ``i``'s window starts in the panorama."""
        return self.pan - i * self.step if self.leftwards else i * self.step

    def decorate(self, surfaces: Sequence[Surface], i: int) -> None:
        """Draw frame ``i``'s particles and title over its background."""
        self.particles.draw(surfaces, i / self.fps)
        if self.title is not None:
            self.title.draw(surfaces, min(1.0, i / self.fade_frames))
