"""``characters: ["char_…"]`` on a create request → ``input_reference`` images from their stills.

A model that takes several images as references (``reference_to_video`` on its card, e.g. xAI's
reference-to-video) gets the stills of every named character, one of each in turn, up to the card's
``max_reference_images``; any other image-to-video model (the local engine included) animates the
first still of the one character it is given, as its first frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from reelay.catalog import ModelCard
from reelay.characters.store import CharacterStore
from reelay.errors import InvalidRequest
from reelay.jobs.inputs import MediaSource
from reelay.jobs.service import CreateRequest, Principal

MAX_CHARACTERS = 7


def character_ids(value: Any) -> list[str]:
    """The ids as sent: a list, one id, or a comma-separated string (a form field)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    ids = [str(item).strip() for item in items if str(item).strip()]
    if not ids or len(ids) > MAX_CHARACTERS or not all(isinstance(item, str) for item in items):
        raise InvalidRequest(f'characters must list 1 to {MAX_CHARACTERS} ids, e.g. ["char_…"]', param="characters")
    return ids


async def apply_characters(
    store: CharacterStore, who: Principal, create: CreateRequest, card: ModelCard, files: ExitStack
) -> None:
    """Add the stills of ``create.extra["characters"]`` to ``create.references`` (opened in ``files``)."""
    ids = character_ids(create.extra.pop("characters", None))
    if not ids:
        return
    stills: list[list[Path]] = []
    for character_id in ids:
        character = await store.get(character_id, owner=who.owner, any_owner=who.admin)
        stills.append(await store.frame_paths(character))
    if card.reference_to_video:
        room = card.max_reference_images - len(create.references)
        chosen = _in_turn(stills)[: max(0, room)]
        if create.reference_mode in (None, "auto"):
            create.reference_mode = "references"
    else:
        if len(ids) > 1 or create.references:
            raise InvalidRequest(
                f"{card.id} animates one image, so it can use one character and no other input_reference; "
                "choose a model whose capabilities list reference_to_video to combine several",
                param="characters",
            )
        chosen = stills[0][:1]
    for path in chosen:
        stream = files.enter_context(open(path, "rb"))  # noqa: SIM115  (closed by the caller's ExitStack)
        create.references.append(MediaSource(kind="upload", value=path.name, stream=stream, content_type="image/jpeg"))


def _in_turn(stills: Sequence[Sequence[Path]]) -> list[Path]:
    """The first still of each character, then the second of each, …"""
    longest = max((len(s) for s in stills), default=0)
    return [s[i] for i in range(longest) for s in stills if i < len(s)]
