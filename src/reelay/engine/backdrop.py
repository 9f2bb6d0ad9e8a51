"""The text-to-video background, painted once per clip as a panorama wider than the frame.

Per-frame work is then only a window copy, which is what keeps 720p synthesis far faster than
real time: gradient sky, soft cloud banding, a sun/moon/fire glow, baked stars and a landscape
silhouette (mountains, hills, dunes, waves, city blocks with lit windows, or pine trees).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from reelay.engine.scene import RGB, Look


def paint_backdrop(look: Look, width: int, height: int, pan: int, rng: np.random.Generator) -> Image.Image:
    """An RGB image ``height`` tall and ``width + pan`` wide for the camera to slide across."""
    wide = width + pan
    unit = height / 720.0
    sky = _sky(look, wide, height, width, rng)
    if look.glow is not None:
        _add_glow(sky, look.glow, (look.glow_at[0] * width + pan / 2, look.glow_at[1] * height), 60 * unit)
    image = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    _stars(draw, look, wide, height, width, rng)
    _skyline(draw, look, wide, height, width, rng)
    return image


def _sky(look: Look, wide: int, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Vertical gradient modulated by two slow sine fields (cloud banding)."""
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.array(look.sky_top, np.float32)
    bottom = np.array(look.sky_bottom, np.float32)
    gradient = top * (1.0 - y) + bottom * y
    x = np.arange(wide, dtype=np.float32)[None, :] / width
    yy = y[:, :, 0]
    bands = np.sin(2 * np.pi * (x * rng.uniform(0.6, 1.4) + yy * rng.uniform(1.5, 3.0)) + rng.uniform(0, 6.3))
    bands *= np.sin(2 * np.pi * (x * rng.uniform(0.2, 0.5) - yy * 0.7) + rng.uniform(0, 6.3))
    shade = 1.0 + 0.09 * bands
    out = np.empty((height, wide, 3), np.float32)
    for c in range(3):  # a channel at a time: numpy broadcasts slowly into a last axis of 3
        np.multiply(gradient[:, :, c], shade, out=out[:, :, c])
    return out


def _add_glow(sky: np.ndarray, color: RGB, centre: tuple[float, float], radius: float) -> None:
    """A disc with a soft halo, added in place over its bounding box only."""
    h, w, _ = sky.shape
    reach = radius * 5
    x0, x1 = max(0, int(centre[0] - reach)), min(w, int(centre[0] + reach))
    y0, y1 = max(0, int(centre[1] - reach)), min(h, int(centre[1] + reach))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.hypot(xx - centre[0], yy - centre[1]) / radius
    halo = 0.55 * np.exp(-((d / 2.2) ** 2))
    core = np.clip(1.5 - d, 0.0, 1.0)
    weight = np.maximum(halo, core)
    rgb = np.array(color, np.float32)
    for c in range(3):  # a channel at a time, as in _sky
        region = sky[y0:y1, x0:x1, c]
        region[:] = region * (1 - weight) + rgb[c] * weight


def _stars(draw: ImageDraw.ImageDraw, look: Look, wide: int, height: int, width: int, rng: np.random.Generator) -> None:
    count = int(look.stars * wide * height / (1280 * 720))
    xs = rng.uniform(0, wide, count)
    ys = rng.uniform(0, height * 0.75, count)
    levels = rng.integers(120, 256, count)
    for x, y, v in zip(xs.tolist(), ys.tolist(), levels.tolist(), strict=True):
        size = 1.0 if v < 230 else 1.6
        draw.ellipse((x - size, y - size, x + size, y + size), fill=(v, v, min(255, v + 10)))


def _ridge(wide: int, base: float, amp: float, sharp: bool, rng: np.random.Generator, width: int) -> np.ndarray:
    """Height of a landscape line at every x: a sum of random sines (abs() for peaks)."""
    x = np.arange(wide, dtype=np.float64) / width
    line = np.zeros(wide)
    for octave in range(4):
        f = rng.uniform(0.8, 1.6) * 2**octave
        wave = np.sin(2 * np.pi * f * x + rng.uniform(0, 6.3))
        line += (np.abs(wave) if sharp else wave) / 2**octave
    line_: np.ndarray = base - amp * line
    return line_


def _fill_below(draw: ImageDraw.ImageDraw, line: np.ndarray, height: int, color: RGB) -> None:
    step = max(1, len(line) // 400)
    xs = [*range(0, len(line), step), len(line) - 1]
    points = [(float(x), float(line[x])) for x in xs]
    draw.polygon([(0.0, float(height)), *points, (float(len(line) - 1), float(height))], fill=color)


def _shade(color: RGB, factor: float) -> RGB:
    r, g, b = (min(255, max(0, round(c * factor))) for c in color)
    return (r, g, b)


_MOUNTAINS = ((0.62, 0.16, 0.8), (0.78, 0.1, 1.0))  # (base, amplitude, shade) per layer, back to front
_HILLS = ((0.74, 0.06, 0.85), (0.84, 0.05, 1.0))


def _skyline(
    draw: ImageDraw.ImageDraw, look: Look, wide: int, height: int, width: int, rng: np.random.Generator
) -> None:
    unit = height / 720.0
    kind = look.skyline
    if kind in ("mountains", "hills", "dunes"):
        layers = _MOUNTAINS if kind == "mountains" else _HILLS
        for base, amp, shade in layers:
            line = _ridge(wide, base * height, amp * height, kind == "mountains", rng, width)
            _fill_below(draw, line, height, _shade(look.ground, shade))
    elif kind == "waves":
        for i in range(6):
            base = height * (0.6 + 0.07 * i)
            line = _ridge(wide, base, 0.012 * height * (1 + i), False, rng, width)
            _fill_below(draw, line, height, _shade(look.ground, 1.6 - 0.15 * i))
    elif kind == "city":
        _city(draw, look, wide, height, unit, rng)
    elif kind == "trees":
        line = _ridge(wide, 0.82 * height, 0.04 * height, False, rng, width)
        _fill_below(draw, line, height, look.ground)
        x = 0.0
        while x < wide:
            tree_h = rng.uniform(0.12, 0.32) * height
            tree_w = tree_h * rng.uniform(0.28, 0.4)
            foot = float(line[min(wide - 1, int(x))]) + 4 * unit
            draw.polygon(
                [(x - tree_w / 2, foot), (x, foot - tree_h), (x + tree_w / 2, foot)],
                fill=_shade(look.ground, rng.uniform(0.7, 1.2)),
            )
            x += rng.uniform(14, 42) * unit


def _city(draw: ImageDraw.ImageDraw, look: Look, wide: int, height: int, unit: float, rng: np.random.Generator) -> None:
    """Blocks of buildings with randomly lit windows."""
    lights = ((255, 214, 120), (120, 220, 255), (255, 120, 200))
    x = 0.0
    while x < wide:
        bw = rng.uniform(40, 120) * unit
        top = height * rng.uniform(0.35, 0.7)
        draw.rectangle((x, top, x + bw, height), fill=_shade(look.ground, rng.uniform(0.8, 1.5)))
        light = lights[int(rng.integers(0, len(lights)))]
        wy = top + 8 * unit
        while wy < height - 10 * unit:
            wx = x + 6 * unit
            while wx < x + bw - 10 * unit:
                if rng.random() < 0.35:
                    draw.rectangle((wx, wy, wx + 5 * unit, wy + 7 * unit), fill=light)
                wx += 12 * unit
            wy += 16 * unit
        x += bw + rng.uniform(0, 8) * unit
