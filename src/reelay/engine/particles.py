"""Particles for text-to-video: snow, rain, embers, bubbles, fireflies, stars, leaves, bokeh, dust.

Motion is closed-form in time (drift + sway, wrapped around the frame), so a frame depends only on
(look, seed, t): no state to carry, frames are reproducible, and per-frame cost is one vectorised
position update plus a few hundred cheap Pillow draw calls on the frame being built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from reelay.engine.scene import RGB, Look, ParticleKind


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


class ParticleField:
    """A seeded set of particles for one clip; ``draw(image, t)`` paints them at time ``t`` seconds."""

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
        self._masks: dict[tuple[int, int], Image.Image] = {}

    def positions(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Particle centres at time ``t`` (wrapped so the field never runs dry)."""
        sway = self.sway * np.sin(self.sway_w * t + self.phase)
        xs = (self.x0 + self.vx * t + sway) % (self.width + 2 * self.margin) - self.margin
        ys = (self.y0 + self.vy * t) % (self.height + 2 * self.margin) - self.margin
        return xs, ys

    def draw(self, image: Image.Image, t: float) -> None:
        xs, ys = self.positions(t)
        pulse = 0.5 + 0.5 * np.sin(3.0 * t + self.phase * 3.0)
        if self.kind in SOFT_KINDS:
            self._draw_soft(image, xs, ys, pulse)
        else:
            self._draw_hard(ImageDraw.Draw(image), xs, ys, pulse)

    def _draw_hard(self, draw: ImageDraw.ImageDraw, xs: np.ndarray, ys: np.ndarray, pulse: np.ndarray) -> None:
        kind = self.kind
        items = zip(
            xs.tolist(), ys.tolist(), self.size.tolist(), self.color_index.tolist(), pulse.tolist(), strict=True
        )
        streak_x, streak_y = (self.vx * 0.03).tolist(), (self.vy * 0.03).tolist()
        for i, (x, y, r, ci, p) in enumerate(items):
            color = self.colors[ci]
            if kind == "rain":
                draw.line((x, y, x + streak_x[i], y + streak_y[i]), fill=color, width=max(1, round(r)))
            elif kind == "bubbles":
                draw.ellipse((x - r, y - r, x + r, y + r), outline=color, width=max(1, round(r / 4)))
            elif kind == "leaves":
                w = r * (0.6 + 0.9 * p)
                draw.ellipse((x - w, y - r * 0.55, x + w, y + r * 0.55), fill=color)
            elif kind in ("stars", "embers"):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=_scale(color, 0.45 + 0.55 * p))
            else:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=color)

    def _draw_soft(self, image: Image.Image, xs: np.ndarray, ys: np.ndarray, pulse: np.ndarray) -> None:
        """Glowing discs pasted through cached radial masks (bokeh lights, fireflies)."""
        strength = 0.55 if self.kind == "bokeh" else 1.0
        items = zip(
            xs.tolist(), ys.tolist(), self.size.tolist(), self.color_index.tolist(), pulse.tolist(), strict=True
        )
        for x, y, r, ci, p in items:
            level = round(4 * strength * (0.35 + 0.65 * p)) if self.kind == "fireflies" else 3
            mask = self._mask(round(r), level)
            half = mask.width // 2
            image.paste(self.colors[ci], (round(x) - half, round(y) - half), mask)

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


def _scale(color: RGB, factor: float) -> RGB:
    r, g, b = (min(255, round(c * factor)) for c in color)
    return (r, g, b)
