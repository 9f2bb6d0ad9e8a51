"""Image-to-video: a Ken Burns move over the reference image (a procedural camera, not a model).

Frame 0 is the reference cover-fitted (scaled and centre-cropped) to the requested size; the
camera then eases into a 1.0 -> 1.2 zoom while drifting in a seed-chosen direction. The image is
scaled once to 1.2x the frame so the deepest zoom is still 1:1; each frame is a crop window of
that still, scaled by swscale straight into yuv420p (an order of magnitude cheaper than a
Pillow resize per frame).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import av
import numpy as np
from PIL import Image

from reelay.engine.coverfit import check_budget, cover_box
from reelay.engine.probe import load_image
from reelay.engine.seeding import derive_seed
from reelay.engine.spec import RenderSpec

MAX_ZOOM = 1.2
PAN_SHARE = 0.8  # of the margin the zoom opens up, so the window never leaves the image


def cover_fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Centre-crop ``image`` to the output's aspect ratio, then scale the crop to width x height.

    Cropping first bounds memory by the source plus the output, whatever the image's shape
    (``coverfit``); scaling first would allocate the source's area times the scale squared.
    """
    check_budget(width, height, "the output")
    left, top, w, h = cover_box(image.width, image.height, width, height)
    return image.resize((width, height), Image.Resampling.LANCZOS, box=(left, top, left + w, top + h))


def ease(t: float) -> float:
    """Smoothstep ease-in-out on 0..1: the camera starts and stops without a jolt."""
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


def image_frames(spec: RenderSpec) -> Iterator[av.VideoFrame]:
    """Yield ``spec.frame_count`` yuv420p frames of the Ken Burns move over ``spec.image_path``."""
    assert spec.image_path is not None  # guaranteed by RenderSpec validation
    width, height, n = spec.width, spec.height, spec.frame_count
    big_w, big_h = round(width * MAX_ZOOM), round(height * MAX_ZOOM)
    still = np.asarray(cover_fit(load_image(spec.image_path), big_w, big_h))
    angle = (derive_seed(spec.seed, "i2v-pan") % 8) * math.pi / 4
    direction = (math.cos(angle), math.sin(angle))
    for i in range(n):
        x, y, w, h = window(i / max(1, n - 1), big_w, big_h, width / height, direction)
        crop = av.VideoFrame.from_ndarray(np.ascontiguousarray(still[y : y + h, x : x + w]), format="rgb24")
        yield crop.reformat(width, height, format="yuv420p", interpolation="BICUBIC")


def window(
    t: float, big_w: int, big_h: int, aspect: float, direction: tuple[float, float]
) -> tuple[int, int, int, int]:
    """Integer crop (x, y, w, h) of the 1.2x still at progress ``t``; (0, 0, big_w, big_h) at t=0."""
    e = ease(t)
    zoom = 1.0 + (MAX_ZOOM - 1.0) * e
    w = min(big_w, round(big_w / zoom))
    h = min(big_h, round(w / aspect))
    margin_x, margin_y = (big_w - w) / 2, (big_h - h) / 2
    cx = big_w / 2 + direction[0] * margin_x * PAN_SHARE * e
    cy = big_h / 2 + direction[1] * margin_y * PAN_SHARE * e
    x = min(big_w - w, max(0, round(cx - w / 2)))
    y = min(big_h - h, max(0, round(cy - h / 2)))
    return x, y, w, h
