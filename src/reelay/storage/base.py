"""The storage seam: where finished media lives.

A backend stores immutable objects under keys like ``videos/<id>/0.mp4``. The embedded default is
local disk; an S3-compatible backend plugs in behind the same protocol for the scale-out mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    async def put_file(self, key: str, source: Path) -> int:
        """Store ``source`` under ``key`` atomically (never visible half-written); return its size."""
        ...

    async def local_path(self, key: str) -> Path | None:
        """A local path to serve the object from, or None if it does not exist."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; return how many were removed."""
        ...
