"""Characters in the storage backend (local disk or S3): create from a video, read back, per owner."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from reelay.errors import CharacterNotFound, InvalidRequest
from reelay.storage.base import Storage

FRAMES = 3
MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class Character:
    id: str
    name: str
    created_at: int
    owner: str | None
    frames: int

    def frame_key(self, index: int) -> str:
        return f"characters/{self.id}/frame-{index}.jpg"


def _meta_key(character_id: str) -> str:
    return f"characters/{character_id}/character.json"


class CharacterStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def create(self, *, owner: str | None, name: str, video: Path) -> Character:
        """Take ``FRAMES`` stills from the (already validated) video and store them with the name."""
        name = name.strip()
        if not name or len(name) > MAX_NAME_CHARS:
            raise InvalidRequest(f"name must be 1 to {MAX_NAME_CHARS} characters", param="name")
        from reelay.engine.thumbnails import save_frames  # av and Pillow: loaded by the first character

        character = Character(f"char_{uuid.uuid4().hex}", name, int(time.time()), owner, FRAMES)
        with tempfile.TemporaryDirectory(prefix="reelay-character-") as scratch:
            folder = Path(scratch)
            frames = [folder / f"frame-{i}.jpg" for i in range(FRAMES)]
            await asyncio.to_thread(save_frames, video, frames)
            for index, frame in enumerate(frames):
                await self.storage.put_file(character.frame_key(index), frame)
            meta = folder / "character.json"
            meta.write_text(json.dumps(asdict(character)))
            await self.storage.put_file(_meta_key(character.id), meta)  # last: a character is whole or absent
        return character

    async def get(self, character_id: str, *, owner: str | None, any_owner: bool) -> Character:
        """The character, or ``CharacterNotFound`` (also for another key's character)."""
        path = await self.storage.local_path(_meta_key(character_id)) if _well_formed(character_id) else None
        if path is None:
            raise CharacterNotFound(f"no character with id {character_id!r}", param="character_id")
        character = Character(**json.loads(await asyncio.to_thread(path.read_text)))
        if not any_owner and character.owner != owner:
            raise CharacterNotFound(f"no character with id {character_id!r}", param="character_id")
        return character

    async def frame_paths(self, character: Character) -> list[Path]:
        paths = [await self.storage.local_path(character.frame_key(i)) for i in range(character.frames)]
        return [path for path in paths if path is not None]


def _well_formed(character_id: str) -> bool:
    rest = character_id.removeprefix("char_")
    return character_id.startswith("char_") and len(rest) == 32 and all(c in "0123456789abcdef" for c in rest)
