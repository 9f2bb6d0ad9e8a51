"""The prompt as an on-screen title, rendered once per clip and pasted through its own mask.

Pillow's bundled font (``ImageFont.load_default(size=...)``) keeps the engine free of system
fonts. A translucent band and a soft shadow keep white text readable on any palette; pasting
only the title's bounding box keeps the per-frame cost tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

MAX_LINES = 3


@dataclass(frozen=True)
class Title:
    """A pre-rendered title: colour layer, its alpha mask and where its top-left goes."""

    rgb: Image.Image
    alpha: Image.Image
    position: tuple[int, int]

    def paste(self, frame: Image.Image, opacity: float = 1.0) -> None:
        """Composite onto ``frame`` in place; ``opacity`` < 1 fades it (used for the fade-in)."""
        if opacity <= 0.0:
            return
        mask = self.alpha if opacity >= 1.0 else self.alpha.point(lambda v: round(v * opacity))
        frame.paste(self.rgb, self.position, mask)


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
