"""Text-to-video: a procedural, seeded scene card for the prompt (not a learned model).

Per clip: pick a look from the prompt (``scene``), paint a panorama once (``backdrop``), seed a
particle field (``particles``) and render the title once (``title``). Per frame: copy a sliding
window of the panorama (the camera pan), draw particles, paste the title. Everything that can be
computed once is, so frame synthesis overlaps comfortably with x264's own encoder threads.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from reelay.engine.backdrop import paint_backdrop
from reelay.engine.particles import ParticleField
from reelay.engine.scene import look_for
from reelay.engine.seeding import derive_seed
from reelay.engine.spec import RenderSpec
from reelay.engine.title import render_title

PAN_PER_FRAME_720P = 2  # whole pixels per frame at 720p: integer steps never judder
TITLE_FADE_SECONDS = 0.6


def text_frames(spec: RenderSpec) -> Iterator[Image.Image]:
    """Yield ``spec.frame_count`` RGB frames of exactly ``spec.width`` x ``spec.height``.

    Deterministic in (prompt, seed): the same pair always gives identical pixels. The caller must
    be done with each frame before asking for the next (a fresh image is built every frame).
    """
    width, height, n = spec.width, spec.height, spec.frame_count
    rng = np.random.default_rng(derive_seed(spec.prompt, spec.seed, "t2v"))
    look = look_for(spec.prompt, spec.seed)
    step = max(1, round(PAN_PER_FRAME_720P * min(width, height) / 720))
    pan = step * (n - 1)
    panorama = np.asarray(paint_backdrop(look, width, height, pan, rng))
    particles = ParticleField(look, width, height, rng)
    title = render_title(spec.prompt, width, height)
    leftwards = bool(rng.integers(0, 2))
    fade_frames = max(1, round(TITLE_FADE_SECONDS * spec.fps))
    for i in range(n):
        offset = pan - i * step if leftwards else i * step
        frame = Image.fromarray(np.ascontiguousarray(panorama[:, offset : offset + width]), "RGB")
        particles.draw(frame, i / spec.fps)
        if title is not None:
            title.paste(frame, min(1.0, i / fade_frames))
        yield frame
