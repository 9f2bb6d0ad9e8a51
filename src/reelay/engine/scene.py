"""Prompt -> look: which palette, landscape, light and particles a text-to-video clip gets.

Pure data, no pixels. A theme is picked from the first prompt word that names one (snow, rain,
fire, ocean, night, space, forest, sunset, city, desert, garden); a prompt with no theme word gets
a look derived from a hash of the prompt, so different prompts still look different. The seed
jitters colours and layout within a look.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, replace
from typing import Literal

from reelay.engine.seeding import derive_seed

RGB = tuple[int, int, int]
ParticleKind = Literal["snow", "rain", "embers", "bubbles", "fireflies", "stars", "leaves", "bokeh", "dust"]
Skyline = Literal["mountains", "hills", "dunes", "waves", "city", "trees", "none"]


@dataclass(frozen=True)
class Look:
    """Everything the text-to-video renderer needs to know about a prompt's scene."""

    theme: str
    sky_top: RGB
    sky_bottom: RGB
    ground: RGB
    skyline: Skyline
    glow: RGB | None  # sun, moon or fire light; None for none
    glow_at: tuple[float, float]  # glow centre as fractions of (width, height)
    stars: int  # static stars baked into the sky, per 1280x720
    particle: ParticleKind
    particle_colors: tuple[RGB, ...]
    particle_count: int  # per 1280x720


THEMES: dict[str, tuple[tuple[str, ...], Look]] = {
    "snow": (
        ("snow", "snowy", "snowfall", "winter", "blizzard", "ice", "icy", "frost", "frozen", "christmas"),
        Look(
            "snow",
            (62, 86, 132),
            (196, 212, 234),
            (226, 233, 245),
            "mountains",
            (235, 240, 255),
            (0.7, 0.25),
            0,
            "snow",
            ((255, 255, 255), (226, 236, 255)),
            150,
        ),
    ),
    "rain": (
        ("rain", "rainy", "raining", "storm", "stormy", "thunder", "drizzle", "downpour", "monsoon"),
        Look(
            "rain",
            (34, 38, 48),
            (92, 102, 118),
            (26, 30, 38),
            "city",
            None,
            (0.5, 0.5),
            0,
            "rain",
            ((170, 182, 204), (140, 152, 176)),
            170,
        ),
    ),
    "fire": (
        (
            "fire",
            "fires",
            "flame",
            "flames",
            "blaze",
            "lava",
            "volcano",
            "campfire",
            "ember",
            "embers",
            "inferno",
            "burning",
        ),
        Look(
            "fire",
            (22, 6, 6),
            (196, 64, 12),
            (18, 8, 4),
            "hills",
            (255, 150, 40),
            (0.5, 0.95),
            0,
            "embers",
            ((255, 190, 70), (255, 120, 24), (255, 230, 140)),
            110,
        ),
    ),
    "ocean": (
        (
            "ocean",
            "oceans",
            "sea",
            "seas",
            "wave",
            "waves",
            "beach",
            "underwater",
            "surf",
            "coral",
            "lagoon",
            "water",
            "tide",
        ),
        Look(
            "ocean",
            (12, 70, 124),
            (22, 150, 168),
            (8, 60, 96),
            "waves",
            (250, 250, 220),
            (0.3, 0.2),
            0,
            "bubbles",
            ((214, 244, 255), (170, 226, 240)),
            60,
        ),
    ),
    "night": (
        ("night", "nights", "moon", "moonlight", "moonlit", "midnight", "dark", "starry", "nocturnal"),
        Look(
            "night",
            (4, 7, 24),
            (28, 40, 82),
            (6, 8, 16),
            "hills",
            (236, 236, 214),
            (0.75, 0.22),
            220,
            "fireflies",
            ((226, 246, 140), (250, 226, 120)),
            60,
        ),
    ),
    "space": (
        (
            "space",
            "galaxy",
            "galaxies",
            "cosmic",
            "cosmos",
            "nebula",
            "planet",
            "planets",
            "universe",
            "astronaut",
            "star",
            "stars",
            "rocket",
            "orbit",
        ),
        Look(
            "space",
            (2, 2, 8),
            (44, 12, 66),
            (20, 8, 30),
            "none",
            (150, 90, 255),
            (0.3, 0.55),
            500,
            "stars",
            ((255, 255, 255), (190, 210, 255), (255, 230, 200)),
            120,
        ),
    ),
    "forest": (
        (
            "forest",
            "forests",
            "tree",
            "trees",
            "woods",
            "jungle",
            "woodland",
            "leaf",
            "leaves",
            "autumn",
            "pine",
            "moss",
        ),
        Look(
            "forest",
            (118, 168, 126),
            (34, 74, 44),
            (14, 40, 22),
            "trees",
            (250, 240, 190),
            (0.2, 0.15),
            0,
            "leaves",
            ((214, 124, 40), (160, 176, 52), (130, 84, 34)),
            70,
        ),
    ),
    "sunset": (
        ("sunset", "sunsets", "sunrise", "dusk", "dawn", "golden", "twilight", "evening"),
        Look(
            "sunset",
            (64, 32, 96),
            (250, 142, 62),
            (44, 20, 44),
            "mountains",
            (255, 204, 120),
            (0.55, 0.62),
            0,
            "dust",
            ((255, 220, 150), (255, 190, 120)),
            60,
        ),
    ),
    "city": (
        (
            "city",
            "cities",
            "urban",
            "street",
            "streets",
            "neon",
            "downtown",
            "cyberpunk",
            "skyline",
            "traffic",
            "skyscraper",
            "skyscrapers",
        ),
        Look(
            "city",
            (18, 8, 40),
            (96, 30, 96),
            (12, 8, 24),
            "city",
            None,
            (0.5, 0.5),
            40,
            "bokeh",
            ((255, 84, 180), (84, 204, 255), (255, 204, 84)),
            45,
        ),
    ),
    "desert": (
        ("desert", "deserts", "sand", "sandy", "dune", "dunes", "sahara", "canyon", "arid"),
        Look(
            "desert",
            (116, 168, 222),
            (244, 204, 152),
            (214, 162, 100),
            "dunes",
            (255, 246, 210),
            (0.8, 0.2),
            0,
            "dust",
            ((236, 196, 146), (220, 178, 128)),
            90,
        ),
    ),
    "garden": (
        (
            "flower",
            "flowers",
            "garden",
            "gardens",
            "spring",
            "meadow",
            "blossom",
            "blossoms",
            "bloom",
            "petals",
            "cherry",
            "tulips",
        ),
        Look(
            "garden",
            (168, 208, 250),
            (204, 236, 190),
            (84, 156, 76),
            "hills",
            (255, 250, 220),
            (0.25, 0.18),
            0,
            "leaves",
            ((255, 182, 204), (255, 255, 255), (250, 150, 190)),
            80,
        ),
    ),
}

_WORD = re.compile(r"[a-z]+")
_KEYWORD_TO_THEME = {word: theme for theme, (words, _) in THEMES.items() for word in words}
_FALLBACK_PARTICLES: tuple[ParticleKind, ...] = ("bokeh", "dust", "snow", "fireflies", "bubbles", "stars")
_FALLBACK_SKYLINES: tuple[Skyline, ...] = ("mountains", "hills", "waves", "dunes", "none")


def theme_for(prompt: str) -> str | None:
    """The theme named by the first matching word of the prompt, or None."""
    for word in _WORD.findall(prompt.lower()):
        if word in _KEYWORD_TO_THEME:
            return _KEYWORD_TO_THEME[word]
    return None


def look_for(prompt: str, seed: int) -> Look:
    """The look for (prompt, seed): a theme preset with seed-jittered colours, or a hashed one."""
    theme = theme_for(prompt)
    if theme is None:
        return _hashed_look(prompt, seed)
    look = THEMES[theme][1]
    h = derive_seed(prompt, seed, "jitter")
    return replace(
        look,
        sky_top=_jitter(look.sky_top, h),
        sky_bottom=_jitter(look.sky_bottom, h >> 16),
        glow_at=(min(0.9, max(0.1, look.glow_at[0] + ((h >> 32) % 21 - 10) / 100)), look.glow_at[1]),
    )


def _jitter(color: RGB, h: int) -> RGB:
    """Shift a colour by up to +-12 per channel so each seed gets its own shade of the theme."""
    r, g, b = ((c + ((h >> (5 * i)) % 25) - 12) for i, c in enumerate(color))
    return (min(255, max(0, r)), min(255, max(0, g)), min(255, max(0, b)))


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (round(r * 255), round(g * 255), round(b * 255))


def _hashed_look(prompt: str, seed: int) -> Look:
    """An abstract look for prompts that name no theme: hue, landscape and particles from a hash."""
    h = derive_seed(prompt.strip().lower(), "look")
    s = derive_seed(prompt, seed, "look-seed")
    hue = (h % 360) / 360.0
    hue2 = hue + 0.08 + ((h >> 9) % 30) / 100.0
    particle = _FALLBACK_PARTICLES[(h >> 20) % len(_FALLBACK_PARTICLES)]
    return Look(
        theme="abstract",
        sky_top=_hsv(hue, 0.75, 0.22 + ((s >> 3) % 10) / 100),
        sky_bottom=_hsv(hue2, 0.6, 0.78),
        ground=_hsv(hue2 + 0.5, 0.5, 0.18),
        skyline=_FALLBACK_SKYLINES[(h >> 28) % len(_FALLBACK_SKYLINES)],
        glow=_hsv(hue2 + 0.1, 0.25, 1.0) if (h >> 34) % 2 else None,
        glow_at=(0.2 + ((s >> 11) % 60) / 100, 0.25 + ((s >> 17) % 30) / 100),
        stars=120 if particle == "stars" else 0,
        particle=particle,
        particle_colors=(_hsv(hue + 0.5, 0.35, 1.0), _hsv(hue2, 0.2, 1.0)),
        particle_count=50 + (h >> 40) % 80,
    )
