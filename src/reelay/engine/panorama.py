"""The text-to-video panorama in yuv420p, converted once; each frame copies the camera's window.

swscale converts the painted panorama (an RGB image wider than the frame) a single time, so the
background of every frame is the same yuv420p the RGB canvas's conversion gave, without a
conversion per frame. 4:2:0 pairs columns, so a window at an odd offset needs chroma averaged over
the other pairing: that second conversion, starting one column in, is made the first time an odd
offset is asked for (only pans of an odd number of pixels per frame ever do).
"""

from __future__ import annotations

import av
import numpy as np
from PIL import Image

from reelay.engine.yuv import YuvFrame, plane_view


class YuvPanorama:
    """The panorama's Y plane and its chroma for even and odd window offsets."""

    def __init__(self, panorama: Image.Image) -> None:
        self._rgb = np.asarray(panorama.convert("RGB"))
        self._phases: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def window(self, frame: YuvFrame, offset: int) -> None:
        """Copy the panorama's columns ``offset`` .. ``offset + width`` into ``frame``'s planes."""
        phase = offset % 2
        y, u, v = self._planes(phase)
        out_y, out_u, out_v = frame.planes
        out_y[:] = y[:, offset - phase : offset - phase + out_y.shape[1]]
        start = (offset - phase) // 2
        out_u[:] = u[:, start : start + out_u.shape[1]]
        out_v[:] = v[:, start : start + out_v.shape[1]]

    def _planes(self, phase: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The yuv420p planes of the panorama from column ``phase`` on, cut to an even width."""
        if phase not in self._phases:
            wide = self._rgb.shape[1] - phase
            rgb = np.ascontiguousarray(self._rgb[:, phase : phase + wide - wide % 2])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p", threads=1)
            y, u, v = (plane_view(p).copy() for p in frame.planes)
            self._phases[phase] = (y, u, v)
        return self._phases[phase]
