"""Prompt words -> video-to-video edits (libavfilter chains, speed, reverse, zoom).

Each ``Edit`` names the phrases that trigger it and what it does; several may combine ("slow
motion black and white, mirrored"). A prompt that triggers nothing gets a colour grade picked
from a hash of the prompt, so every edit request visibly changes the video. This table is the
single source for both the renderer and ``describe_edits()`` (the API and docs list it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelay.engine.seeding import derive_seed

Filter = tuple[str, str]  # (libavfilter name, its argument string)

# Tints are chroma offsets in YUV (lutyuv is a table lookup, ~0.4 ms per 720p frame); RGB-space
# filters such as colorbalance cost 16 ms per frame on the dev machines and are avoided.
SEPIA_LUT = "y=val*0.82+22:u=114:v=141"
SATURATE = "u=(val-128)*1.35+128:v=(val-128)*1.35+128"


@dataclass(frozen=True)
class Edit:
    """One edit: trigger phrases, a human description and its effect."""

    name: str
    keywords: tuple[str, ...]
    description: str
    filters: tuple[Filter, ...] = ()
    speed: float = 1.0  # playback rate: 2.0 plays twice as fast (half the duration)
    reverse: bool = False
    zoom: float = 1.0  # centre crop-in factor applied before scaling to the output size


EDITS: tuple[Edit, ...] = (
    Edit(
        "grayscale",
        (
            "black and white",
            "black-and-white",
            "b&w",
            "grayscale",
            "greyscale",
            "monochrome",
            "noir",
            "desaturate",
            "desaturated",
        ),
        "Black-and-white: removes all colour.",
        (("hue", "s=0"),),
    ),
    Edit(
        "vintage",
        (
            "vintage",
            "sepia",
            "old film",
            "old-film",
            "retro",
            "old fashioned",
            "old-fashioned",
            "nostalgic",
            "film look",
            "aged",
        ),
        "Vintage film: sepia tones, lifted blacks, a light fixed grain and a vignette.",
        (("lutyuv", SEPIA_LUT), ("noise", "alls=5"), ("vignette", "angle=PI/5")),
    ),
    Edit(
        "blur",
        ("blur", "blurry", "blurred", "dreamy", "dream", "soft focus", "soft-focus", "hazy"),
        "Dreamy blur: a soft Gaussian blur.",
        (("gblur", "sigma=4"),),
    ),
    Edit(
        "sharpen",
        ("sharpen", "sharpened", "sharper", "sharp", "crisp", "crisper", "enhance detail"),
        "Sharpen: unsharp mask on luma.",
        (("unsharp", "5:5:1.2:5:5:0.0"),),
    ),
    Edit(
        "speed_up",
        (
            "speed up",
            "sped up",
            "speed it up",
            "faster",
            "fast forward",
            "fast-forward",
            "fast motion",
            "timelapse",
            "time lapse",
            "time-lapse",
            "2x",
        ),
        "Speed up: plays at 2x; audio tempo doubled without changing pitch.",
        speed=2.0,
    ),
    Edit(
        "slow_motion",
        ("slow motion", "slow-motion", "slowmo", "slow-mo", "slow mo", "slower", "slow down", "half speed", "0.5x"),
        "Slow motion: plays at 0.5x (frames repeated); audio tempo halved without changing pitch.",
        speed=0.5,
    ),
    Edit(
        "reverse",
        ("reverse", "reversed", "backwards", "backward", "rewind", "in reverse"),
        "Reverse: plays the clip (and its audio) backwards.",
        reverse=True,
    ),
    Edit(
        "mirror",
        ("mirror", "mirrored", "flip", "flipped", "horizontal flip", "flip horizontally"),
        "Mirror: flips the picture left to right.",
        (("hflip", ""),),
    ),
    Edit(
        "zoom",
        ("zoom", "zoom in", "zoomed", "zoomed in", "crop in", "crop-in", "close up", "close-up", "closeup", "punch in"),
        "Zoom: crops into the centre (1.25x) before scaling back to the output size.",
        zoom=1.25,
    ),
)

GRADES: tuple[Edit, ...] = (
    Edit("grade_warm", (), "Warm grade: golden, less blue.", (("lutyuv", "u=val-8:v=val+10"),)),
    Edit("grade_cool", (), "Cool grade: bluer, less red.", (("lutyuv", "u=val+10:v=val-7"),)),
    Edit("grade_vivid", (), "Vivid grade: colours 35 % more saturated.", (("lutyuv", SATURATE),)),
    Edit("grade_contrast", (), "Punchy grade: stronger contrast curve.", (("lutyuv", "y=(val-128)*1.25+128"),)),
    Edit(
        "grade_faded",
        (),
        "Faded grade: lifted blacks, softer highlights, muted colour.",
        (("lutyuv", "y=val*0.78+34:u=(val-128)*0.75+128:v=(val-128)*0.75+128"),),
    ),
)


@dataclass(frozen=True)
class EditPlan:
    """The edits a prompt asked for, folded into one filter chain and one timing change."""

    edits: tuple[Edit, ...]

    @property
    def name(self) -> str:
        return "+".join(edit.name for edit in self.edits)

    @property
    def filters(self) -> tuple[Filter, ...]:
        return tuple(f for edit in self.edits for f in edit.filters)

    @property
    def speed(self) -> float:
        rate = 1.0
        for edit in self.edits:
            rate *= edit.speed
        return rate

    @property
    def reverse(self) -> bool:
        return any(edit.reverse for edit in self.edits)

    @property
    def zoom(self) -> float:
        return max((edit.zoom for edit in self.edits), default=1.0)


def _pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


_PATTERNS = {edit.name: [_pattern(k) for k in edit.keywords] for edit in EDITS}


def _first_match(edit: Edit, text: str) -> int | None:
    hits = [m.start() for p in _PATTERNS[edit.name] if (m := p.search(text))]
    return min(hits) if hits else None


def plan_edits(prompt: str, seed: int = 0) -> EditPlan:
    """Edits triggered by ``prompt`` (in table order); a hashed colour grade if none is.

    "faster" and "slow motion" contradict each other; the one mentioned first wins.
    """
    text = prompt.lower()
    found = {edit.name: pos for edit in EDITS if (pos := _first_match(edit, text)) is not None}
    if "speed_up" in found and "slow_motion" in found:
        del found["slow_motion" if found["speed_up"] < found["slow_motion"] else "speed_up"]
    chosen = tuple(edit for edit in EDITS if edit.name in found)
    if not chosen:
        chosen = (GRADES[derive_seed(prompt.strip().lower(), "grade") % len(GRADES)],)
    return EditPlan(chosen)


def describe_edits() -> dict[str, str]:
    """Edit name -> what it does and which words trigger it (for the API and the docs)."""
    described = {
        edit.name: f"{edit.description} Triggered by: {', '.join(repr(k) for k in edit.keywords)}." for edit in EDITS
    }
    grades = ", ".join(g.name.removeprefix("grade_").replace("_", "-") for g in GRADES)
    described["grade"] = (
        f"Default when no keyword matches: one colour grade ({grades}) chosen from a hash of the prompt."
    )
    return described
