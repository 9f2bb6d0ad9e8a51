"""Text-to-video: a procedural, seeded scene card for the prompt (not a learned model).

Per clip: pick a look from the prompt (``scene``), paint a panorama once (``backdrop``), seed a
particle field (``particles``) and render the title once (``title``). Per frame: copy a sliding
window of the panorama (the camera pan), draw particles, paste the title. Everything that can be
computed once is, so frame synthesis overlaps comfortably with x264's own encoder threads.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np
from PIL import Image

from reelay.engine.backdrop import paint_backdrop
from reelay.engine.frames import Canvas
from reelay.engine.particles import ParticleField
from reelay.engine.scene import look_for
from reelay.engine.seeding import derive_seed
from reelay.engine.spec import RenderSpec
from reelay.engine.title import render_title

PAN_PER_FRAME_720P = 2  # whole pixels per frame at 720p: integer steps never judder
TITLE_FADE_SECONDS = 0.6


def text_frames(spec: RenderSpec) -> Iterator[Image.Image]:
    """Yield ``spec.frame_count`` frames of exactly ``spec.width`` x ``spec.height`` (RGBA, opaque).

    Deterministic in (prompt, seed): the same pair always gives identical pixels. The caller must
    be done with each frame before asking for the next: one canvas is redrawn for every frame, so
    no frame allocates (copy a frame to keep it).
    """
    canvas = Canvas(spec.width, spec.height)
    for _ in _draw(spec, canvas.image):
        yield canvas.image


def text_video_frames(spec: RenderSpec) -> Iterator[av.VideoFrame]:
    """The same frames as yuv420p ``av.VideoFrame`` for the encoder, converted straight off the canvas."""
    canvas = Canvas(spec.width, spec.height)
    for _ in _draw(spec, canvas.image):
        yield canvas.to_yuv420p()


def _draw(spec: RenderSpec, canvas: Image.Image) -> Iterator[None]:
    """Draw each frame on ``canvas`` in turn, yielding once it is complete."""
    width, height, n = spec.width, spec.height, spec.frame_count
    rng = np.random.default_rng(derive_seed(spec.prompt, spec.seed, "t2v"))
    look = look_for(spec.prompt, spec.seed)
    step = max(1, round(PAN_PER_FRAME_720P * min(width, height) / 720))
    pan = step * (n - 1)
    panorama = paint_backdrop(look, width, height, pan, rng).convert(canvas.mode)
    particles = ParticleField(look, width, height, rng)
    title = render_title(spec.prompt, width, height)
    leftwards = bool(rng.integers(0, 2))
    fade_frames = max(1, round(TITLE_FADE_SECONDS * spec.fps))
    for i in range(n):
        offset = pan - i * step if leftwards else i * step
        canvas.paste(panorama, (-offset, 0))  # the window of the panorama: pasting clips the rest
        particles.draw(canvas, i / spec.fps)
        if title is not None:
            title.paste(canvas, min(1.0, i / fade_frames))
        yield None
