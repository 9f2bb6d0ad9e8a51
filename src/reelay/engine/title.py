"""The prompt as an on-screen title, rendered once per clip and pasted through its own mask.

Pillow's bundled font (``ImageFont.load_default(size=...)``) keeps the engine free of system
fonts. A translucent band and a soft shadow keep white text readable on any palette; pasting
only the title's bounding box keeps the per-frame cost tiny.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from reelay.engine.yuv import Surface, chroma_mask, paste_through, ycbcr

MAX_LINES = 3
NEUTRAL_CHROMA = 128  # Cb and Cr of any grey


@dataclass(frozen=True)
class Title:
    """A pre-rendered title: colour layer, its alpha mask and where its top-left goes.

    The colour layer is grey (white text, black elsewhere), so on a yuv420p frame it is its luma on
    the Y plane and neutral chroma (128) blended through the half-size mask on Cb and Cr.
    """

    rgb: Image.Image
    alpha: Image.Image
    position: tuple[int, int]
    _layers: dict[str, Image.Image] = field(default_factory=dict, init=False, repr=False, compare=False)

    def paste(self, frame: Image.Image, opacity: float = 1.0) -> None:
        """Composite onto an RGB(A) ``frame`` in place; ``opacity`` < 1 fades it (the fade-in)."""
        self.draw((Surface(frame),), opacity)

    def draw(self, surfaces: Sequence[Surface], opacity: float = 1.0) -> None:
        """Composite onto each surface (an RGB canvas, or a frame's Y, Cb and Cr planes) in place."""
        if opacity <= 0.0:
            return
        mask = self.alpha if opacity >= 1.0 else self.alpha.point(lambda v: round(v * opacity))
        x, y = self.position
        for surface in surfaces:
            if surface.component is None:
                surface.image.paste(self._layer(surface.image.mode), self.position, mask)
            elif surface.component == 0:
                surface.image.paste(self._luma, self.position, mask)
            else:
                half = self._chroma_alpha if opacity >= 1.0 else chroma_mask(mask, x, y)
                paste_through(surface, NEUTRAL_CHROMA, x, y, mask, half)

    def _layer(self, mode: str) -> Image.Image:
        """The colour layer in the canvas's mode (converted once, not on every paste)."""
        if mode not in self._layers:
            self._layers[mode] = self.rgb.convert(mode)
        return self._layers[mode]

    @cached_property
    def _luma(self) -> Image.Image:
        """The grey colour layer's Y: level v of grey is BT.601's 16 + 219 v / 255."""
        grey = self.rgb.getchannel(0)
        table = ycbcr(np.repeat(np.arange(256)[:, None], 3, axis=1))[:, 0].tolist()
        return grey.point(table)

    @cached_property
    def _chroma_alpha(self) -> Image.Image:
        return chroma_mask(self.alpha, *self.position)


def wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float) -> list[str]:
    """Greedy word wrap to ``max_width`` pixels, at most three lines, ellipsis when cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        last = lines[-1]
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return [_fit(line, font, max_width) for line in lines]


def _fit(line: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float) -> str:
    """Shorten a single over-long word (a URL, a hash) so it cannot overflow the frame."""
    if font.getlength(line) <= max_width:
        return line
    while line and font.getlength(line + "…") > max_width:
        line = line[:-1]
    return line + "…"


def render_title(text: str, width: int, height: int) -> Title | None:
    """Lay out ``text`` centred in the lower third; None for an empty prompt."""
    text = " ".join(text.split())
    if not text:
        return None
    size = max(10, round(min(width, height) * 0.065))
    font = ImageFont.load_default(size=size)
    lines = wrap(text, font, width * 0.84)
    spacing = round(size * 0.3)
    line_h = size + spacing
    text_w = max(1, round(max(font.getlength(line) for line in lines)))
    pad = round(size * 0.6)
    box_w = min(width, text_w + 2 * pad)
    box_h = min(height, line_h * len(lines) - spacing + 2 * pad)
    alpha = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(alpha).rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=96)
    text_mask = Image.new("L", (box_w, box_h), 0)
    draw = ImageDraw.Draw(text_mask)
    for i, line in enumerate(lines):
        x = (box_w - font.getlength(line)) / 2
        draw.text((x, pad + i * line_h), line, font=font, fill=255)
    shadow = text_mask.filter(ImageFilter.GaussianBlur(max(1, size // 14)))
    alpha.paste(200, (max(1, size // 20), max(1, size // 20)), shadow)
    alpha.paste(255, (0, 0), text_mask)
    # Colour layer: white where text is, black elsewhere; the band and shadow come from alpha.
    rgb = Image.merge("RGB", (text_mask, text_mask, text_mask))
    top = round(height * 0.68 - box_h / 2)
    position = ((width - box_w) // 2, max(0, min(height - box_h, top)))
    return Title(rgb=rgb, alpha=alpha, position=position)
