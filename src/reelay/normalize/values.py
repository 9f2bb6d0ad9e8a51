"""Parsing and checking the scalar fields: prompt, seconds, n and seed.

Clients send numbers as JSON numbers or as strings (multipart forms only have strings), so every
parser takes both. A value that cannot mean anything raises ``InvalidRequest`` naming the field the
client used; a value that is merely not offered (8.4 s) is moved to the nearest allowed one by the
caller, which reports the change.
"""

from __future__ import annotations

import math
import re

from reelay.catalog import DurationRule, ModelCard
from reelay.errors import InvalidRequest

MAX_SEED = 2**32 - 1
MAX_INTEGER_DIGITS = 64  # longer integer strings are refused before conversion (int() is quadratic)
_INTEGER = re.compile(r"^[+-]?\d+$", re.ASCII)


def check_prompt(prompt: object, card: ModelCard) -> str:
    """The prompt without surrounding whitespace; it must be non-empty and within the card's limit."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("prompt is required and must not be empty.", param="prompt")
    text = prompt.strip()
    if len(text) > card.max_prompt_chars:
        raise InvalidRequest(
            f"prompt is {len(text)} characters; {card.id} accepts at most {card.max_prompt_chars}. Shorten the prompt.",
            param="prompt",
        )
    return text


def parse_seconds(value: object, *, param: str) -> float:
    """``5``, ``5.5``, ``"5"``, ``"5.0"`` or ``"8s"`` -> seconds; anything else, or <= 0, is invalid."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an integer beyond float range: as unusable as inf
            seconds = None
    elif isinstance(value, str):
        text = value.strip().lower().removesuffix("s").strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = None
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidRequest(
            f'{param} {shown(value)} is not a positive number of seconds (e.g. 5 or "5").', param=param
        )
    return seconds


def snap_seconds(seconds: float, rule: DurationRule) -> float:
    """The allowed duration nearest ``seconds``: clamped to [min, max], then on the step grid."""
    clamped = min(max(seconds, rule.min), rule.max)
    steps = math.floor((clamped - rule.min) / rule.step + 0.5)
    snapped = rule.min + steps * rule.step
    if snapped > rule.max + 1e-9:  # max itself need not lie on the grid
        snapped -= rule.step
    return round(snapped, 6)


def clamp_seconds(seconds: float, rule: DurationRule) -> float:
    """For outputs that keep an input's length: the exact length when allowed, else the nearest bound."""
    return round(min(max(seconds, rule.min), rule.max), 3)


def parse_n(value: object, card: ModelCard) -> int:
    """How many videos: an integer (or integer string) from 1 to the card's ``max_n``."""
    count = _as_integer(value)
    if count is None or not 1 <= count <= card.max_n:
        raise InvalidRequest(f"n {shown(value)} is not valid: send a whole number from 1 to {card.max_n}.", param="n")
    return count


def parse_seed(value: object) -> int:
    """A seed from 0 to 2**32 - 1 (an integer or an integer string)."""
    seed = _as_integer(value)
    if seed is None or not 0 <= seed <= MAX_SEED:
        raise InvalidRequest(
            f"seed {shown(value)} is not valid: send a whole number from 0 to {MAX_SEED}.", param="seed"
        )
    return seed


def _as_integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        text = value.strip()
        return int(text) if len(text) <= MAX_INTEGER_DIGITS else None  # no 4,300-digit conversions
    return None


def shown(value: object) -> str:
    """A value as an error message quotes it: huge integers and long strings abbreviated."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 212:  # about 64 decimal digits
        return f"(an integer of about {int(value.bit_length() * 0.30103) + 1} digits)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def display_seconds(seconds: float) -> int | float:
    """Seconds as a provider sees them: ``6`` rather than ``6.0`` when whole."""
    return int(seconds) if float(seconds).is_integer() else seconds
