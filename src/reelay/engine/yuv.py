"""Drawing straight into yuv420p: a frame's three planes as Pillow images, RGB colours as BT.601.

Converting every finished RGB canvas with swscale cost t2v a third of x264's own CPU time; t2v now
converts its panorama once and draws particles and the title into the Y plane at full size and the
Cb/Cr planes at half size (docs/benchmarks.md). Colours go through the matrix swscale uses (BT.601,
limited range), and blending is linear in both spaces, so the Y plane matches the converted RGB
canvas to a level or two; chroma differs only at the edges of small shapes, where 4:2:0 keeps
a quarter of the detail anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import av
import numpy as np
from av.video.plane import VideoPlane
from PIL import Image

Ink = int | tuple[int, ...]
Component = Literal[0, 1, 2]  # Y, Cb, Cr

# BT.601 limited range (what swscale's default rgb -> yuv420p uses): rows give Y, Cb, Cr.
_MATRIX = (
    np.array(
        [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]],
        np.float64,
    )
    / 255.0
)
_OFFSET = np.array([16.0, 128.0, 128.0])


def ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Rows of RGB (..., 3), 0..255, as rows of (Y, Cb, Cr) integers, rounded like swscale."""
    out: np.ndarray = np.clip(np.rint(np.asarray(rgb, np.float64) @ _MATRIX.T + _OFFSET), 0, 255)
    return out.astype(np.int64)


@dataclass(frozen=True)
class Surface:
    """One image a frame is drawn on: the RGB(A) canvas itself, or one plane of a yuv420p frame.

    ``scale`` divides full-size coordinates (2 on the half-size chroma planes); ``component``
    picks which part of an RGB colour the plane holds (None: the RGB colour as it is).
    """

    image: Image.Image
    scale: Literal[1, 2] = 1
    component: Component | None = None

    def inks(self, rgb: np.ndarray) -> list[Ink]:
        """The ink for each row of an (n, 3) array of RGB colours on this surface."""
        if self.component is None:
            return [tuple(c) for c in np.asarray(rgb).tolist()]
        values: list[Ink] = ycbcr(rgb)[:, self.component].tolist()
        return values

    def ink(self, rgb: tuple[int, int, int]) -> Ink:
        return self.inks(np.array([rgb]))[0]


def plane_view(plane: VideoPlane) -> np.ndarray:
    """A writable numpy view of one plane (rows of ``plane.width``, padding cut off)."""
    return _rows(plane)[:, : plane.width]


def _rows(plane: VideoPlane) -> np.ndarray:
    """The plane's memory as (height, line_size) bytes, padding included."""
    view: np.ndarray = np.frombuffer(memoryview(plane), np.uint8)
    return view.reshape(plane.height, plane.line_size)


def _image_over(plane: VideoPlane) -> Image.Image:
    """A Pillow "L" image sharing the plane's memory, so drawing on it draws on the frame."""
    image = Image.frombuffer("L", (plane.width, plane.height), _rows(plane), "raw", "L", plane.line_size, 1)
    image.readonly = 0  # Pillow would copy a foreign buffer on the first draw; writing into it is the point
    return image


class YuvFrame:
    """A new yuv420p ``av.VideoFrame``: its planes as numpy views and as Pillow surfaces.

    Each frame owns fresh memory, so frames made ahead on another thread never share a buffer with
    one the encoder still holds; libavcodec then takes a reference instead of a copy.
    """

    def __init__(self, width: int, height: int) -> None:
        self.frame = av.VideoFrame(width, height, "yuv420p")
        planes = self.frame.planes
        self.planes = tuple(plane_view(p) for p in planes)
        self.surfaces = (
            Surface(_image_over(planes[0]), 1, 0),
            Surface(_image_over(planes[1]), 2, 1),
            Surface(_image_over(planes[2]), 2, 2),
        )


def chroma_mask(mask: Image.Image, x: int, y: int) -> Image.Image:
    """``mask`` meant for full-size position (x, y), averaged over the 2x2 blocks of the chroma grid.

    Paste the result at ``(x // 2, y // 2)`` on a Cb or Cr plane: an odd position shifts the mask
    by one pixel first, so the blocks it is averaged over are the ones the encoder's chroma covers.
    """
    dx, dy = x % 2, y % 2
    w, h = mask.width + dx, mask.height + dy
    aligned = Image.new("L", (w + w % 2, h + h % 2), 0)
    aligned.paste(mask, (dx, dy))
    return aligned.reduce(2)


def paste_through(surface: Surface, ink: Ink, x: int, y: int, mask: Image.Image, half: Image.Image | None) -> None:
    """Blend ``ink`` through ``mask`` at full-size (x, y); ``half`` is ``chroma_mask(mask, x, y)``
    for a chroma plane (passed in so callers can cache it)."""
    if surface.scale == 1:
        surface.image.paste(ink, (x, y), mask)
    else:
        surface.image.paste(ink, (x // 2, y // 2), half if half is not None else chroma_mask(mask, x, y))
