"""The storage seam: where finished media lives.

A backend stores immutable objects under keys like ``videos/<id>/0.mp4``. The embedded default is
local disk; ``storage.s3`` is the S3-compatible backend (AWS S3, MinIO, R2) of the scale-out mode.
``local_path`` is how a process reads an object: a remote backend downloads it to a local cache.
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

    def key_for_path(self, path: Path) -> str | None:
        """The key whose ``local_path`` is ``path`` (so a stored input can be linked), or None."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; return how many were removed."""
        ...

    def download_url(self, key: str, expires: int) -> str | None:
        """A URL clients can fetch the object from directly until ``expires`` (unix time), or None
        when the backend has none (local disk: the API serves a signed ``/v1/files`` link instead).
        Pure computation, no I/O: it is called while presenting every completed video."""
        ...
