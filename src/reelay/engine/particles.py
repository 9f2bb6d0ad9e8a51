"""Particles for text-to-video: snow, rain, embers, bubbles, fireflies, stars, leaves, bokeh, dust.

Motion is closed-form in time (drift + sway, wrapped around the frame), so a frame depends only on
(look, seed, t): no state to carry, frames are reproducible, and per-frame cost is one vectorised
position update plus a few hundred cheap Pillow draw calls per surface: the RGB canvas, or a yuv420p
frame's Y plane at full size and its Cb and Cr planes at half size (``yuv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from reelay.engine.scene import Look, ParticleKind
from reelay.engine.yuv import Ink, Surface, chroma_mask, paste_through


@dataclass(frozen=True)
class Motion:
    """Per-kind ranges, in pixels (or pixels per second) at 720p; scaled to the frame size."""

    size: tuple[float, float]
    vx: tuple[float, float]
    vy: tuple[float, float]
    sway: float
    sway_hz: tuple[float, float]


MOTIONS: dict[ParticleKind, Motion] = {
    "snow": Motion((1.5, 4.5), (-12, 12), (35, 95), 14, (0.3, 0.9)),
    "rain": Motion((1.0, 2.2), (-140, -100), (900, 1300), 0, (0.0, 0.0)),
    "embers": Motion((1.2, 3.2), (-15, 15), (-170, -50), 18, (0.8, 2.5)),
    "bubbles": Motion((3.0, 11.0), (-6, 6), (-95, -35), 10, (0.8, 2.0)),
    "fireflies": Motion((2.0, 3.5), (-20, 20), (-15, 15), 30, (0.2, 0.7)),
    "stars": Motion((0.8, 2.0), (-30, -8), (0, 0), 0, (0.0, 0.0)),
    "leaves": Motion((3.0, 7.0), (-30, 30), (40, 90), 40, (0.4, 1.2)),
    "bokeh": Motion((10.0, 34.0), (-8, 8), (-25, -5), 15, (0.15, 0.4)),
    "dust": Motion((0.8, 2.0), (40, 140), (-10, 10), 8, (0.5, 2.0)),
}
SOFT_KINDS: frozenset[ParticleKind] = frozenset({"bokeh", "fireflies"})
TWINKLING: frozenset[ParticleKind] = frozenset({"stars", "embers"})


class ParticleField:
    """A seeded set of particles for one clip; ``draw(surfaces, t)`` paints them at time ``t`` seconds."""

    def __init__(self, look: Look, width: int, height: int, rng: np.random.Generator) -> None:
        self.kind = look.particle
        self.colors = look.particle_colors
        self.width, self.height = width, height
        unit = min(width, height) / 720.0
        motion = MOTIONS[self.kind]
        n = max(8, round(look.particle_count * width * height / (1280 * 720)))
        self.margin = 40.0 * unit * (2.0 if self.kind == "bokeh" else 1.0)
        self.x0 = rng.uniform(0, width + 2 * self.margin, n)
        self.y0 = rng.uniform(0, height + 2 * self.margin, n)
        self.size = rng.uniform(*motion.size, n) * unit
        self.vx = rng.uniform(*motion.vx, n) * unit
        self.vy = rng.uniform(*motion.vy, n) * unit
        self.sway = motion.sway * unit * rng.uniform(0.5, 1.0, n)
        self.sway_w = 2 * np.pi * rng.uniform(*motion.sway_hz, n)
        self.phase = rng.uniform(0, 2 * np.pi, n)
        self.color_index = rng.integers(0, len(self.colors), n)
        self.palette = np.array(self.colors, np.int64)
        self._masks: dict[tuple[int, int], Image.Image] = {}
        self._inks: dict[int | None, list[Ink]] = {}
        self._chroma_masks: dict[tuple[int, int, int, int], Image.Image] = {}

    def positions(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Particle centres at time ``t`` (wrapped so the field never runs dry)."""
        sway = self.sway * np.sin(self.sway_w * t + self.phase)
        xs = (self.x0 + self.vx * t + sway) % (self.width + 2 * self.margin) - self.margin
        ys = (self.y0 + self.vy * t) % (self.height + 2 * self.margin) - self.margin
        return xs, ys

    def draw(self, surfaces: Sequence[Surface], t: float) -> None:
        """Paint the particles at time ``t`` on each surface (an RGB canvas, or a frame's Y, Cb, Cr)."""
        xs, ys = self.positions(t)
        pulse = 0.5 + 0.5 * np.sin(3.0 * t + self.phase * 3.0)
        twinkled = self._twinkled(pulse) if self.kind in TWINKLING else None
        for surface in surfaces:
            inks = surface.inks(twinkled) if twinkled is not None else self._fixed_inks(surface)
            if self.kind in SOFT_KINDS:
                self._draw_soft(surface, xs, ys, pulse, inks)
            else:
                self._draw_hard(surface, xs, ys, pulse, inks)

    def _fixed_inks(self, surface: Surface) -> list[Ink]:
        """Each particle's ink on this kind of surface, for kinds whose colours never change."""
        if surface.component not in self._inks:
            self._inks[surface.component] = surface.inks(self.palette[self.color_index])
        return self._inks[surface.component]

    def _twinkled(self, pulse: np.ndarray) -> np.ndarray:
        """Stars' and embers' RGB colours this frame, (n, 3): the palette dimmed with ``pulse``."""
        factor = 0.45 + 0.55 * pulse
        scaled: np.ndarray = np.minimum(255, np.rint(self.palette[self.color_index] * factor[:, None]))
        return scaled.astype(np.int64)

    def _draw_hard(self, surface: Surface, xs: np.ndarray, ys: np.ndarray, pulse: np.ndarray, inks: list[Ink]) -> None:
        """Hard-edged shapes; on a half-size chroma plane, the same shapes at half the size.

        The shapes' boxes are computed for all particles at once and only those that reach into
        the image are drawn (the field wraps around a margin outside the frame).
        """
        s = surface.scale
        x, y, r = xs / s, ys / s, self.size / s
        draw = ImageDraw.Draw(surface.image)
        if self.kind == "rain":
            boxes = np.stack([x, y, x + self.vx * 0.03 / s, y + self.vy * 0.03 / s], axis=1)
            widths = np.maximum(1, np.rint(r)).astype(np.int64)
            box_list, width_list = boxes.tolist(), widths.tolist()
            for i in _reaching_in(boxes, widths, surface.image.size):
                draw.line(box_list[i], fill=inks[i], width=width_list[i])
            return
        if self.kind == "leaves":
            w = r * (0.6 + 0.9 * pulse)
            boxes = np.stack([x - w, y - r * 0.55, x + w, y + r * 0.55], axis=1)
        else:
            boxes = np.stack([x - r, y - r, x + r, y + r], axis=1)
        box_list = boxes.tolist()
        if self.kind == "bubbles":
            widths = np.maximum(1, np.rint(r / 4)).astype(np.int64)
            width_list = widths.tolist()
            for i in _reaching_in(boxes, widths, surface.image.size):
                draw.ellipse(box_list[i], outline=inks[i], width=width_list[i])
            return
        for i in _reaching_in(boxes, 0, surface.image.size):
            draw.ellipse(box_list[i], fill=inks[i])

    def _draw_soft(self, surface: Surface, xs: np.ndarray, ys: np.ndarray, pulse: np.ndarray, inks: list[Ink]) -> None:
        """Glowing discs pasted through cached radial masks (bokeh lights, fireflies)."""
        strength = 0.55 if self.kind == "bokeh" else 1.0
        items = zip(xs.tolist(), ys.tolist(), self.size.tolist(), inks, pulse.tolist(), strict=True)
        for x, y, r, ink, p in items:
            level = round(4 * strength * (0.35 + 0.65 * p)) if self.kind == "fireflies" else 3
            mask = self._mask(round(r), level)
            half = mask.width // 2
            left, top = round(x) - half, round(y) - half
            chroma = None if surface.scale == 1 else self._chroma_mask(round(r), level, left, top)
            paste_through(surface, ink, left, top, mask, chroma)

    def _mask(self, radius: int, level: int) -> Image.Image:
        key = (max(1, radius), max(1, level))
        if key not in self._masks:
            r, lv = key
            alpha = round(255 * lv / 4 * (0.55 if self.kind == "bokeh" else 1.0))
            size = 4 * r + 4
            mask = Image.new("L", (size, size), 0)
            ImageDraw.Draw(mask).ellipse((size / 2 - r, size / 2 - r, size / 2 + r, size / 2 + r), fill=alpha)
            self._masks[key] = mask.filter(ImageFilter.GaussianBlur(max(1.0, r / 2.5)))
        return self._masks[key]

    def _chroma_mask(self, radius: int, level: int, left: int, top: int) -> Image.Image:
        """``_mask`` for the half-size chroma planes, for a paste at full-size (left, top)."""
        key = (radius, level, left % 2, top % 2)
        if key not in self._chroma_masks:
            self._chroma_masks[key] = chroma_mask(self._mask(radius, level), left, top)
        return self._chroma_masks[key]


def _reaching_in(boxes: np.ndarray, pad: np.ndarray | int, size: tuple[int, int]) -> list[int]:
    """Indices of the (x0, y0, x1, y1) boxes, grown by ``pad`` and a pixel, that overlap the image."""
    grow = np.asarray(pad) + 1.0
    left = np.minimum(boxes[:, 0], boxes[:, 2]) - grow
    right = np.maximum(boxes[:, 0], boxes[:, 2]) + grow
    top = np.minimum(boxes[:, 1], boxes[:, 3]) - grow
    bottom = np.maximum(boxes[:, 1], boxes[:, 3]) + grow
    width, height = size
    inside = (right >= 0) & (left <= width) & (bottom >= 0) & (top <= height)
    indices: list[int] = np.flatnonzero(inside).tolist()
    return indices
