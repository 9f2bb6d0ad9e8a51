"""Local-disk storage for the embedded default."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path, PurePosixPath


def _safe_key(key: str) -> PurePosixPath:
    """Refuse keys that could escape the storage root (absolute paths, ``..``, backslashes)."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise ValueError(f"invalid storage key: {key!r}")
    return path


class LocalStorage:
    """Objects are files under ``root``; writes go to a temporary name and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_safe_key(key).parts)

    async def put_file(self, key: str, source: Path) -> int:
        return await asyncio.to_thread(self._put_file_sync, key, source)

    def _put_file_sync(self, key: str, source: Path) -> int:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        return target.stat().st_size

    async def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def key_for_path(self, path: Path) -> str | None:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None

    def download_url(self, key: str, expires: int) -> str | None:
        return None  # served by the API through signed /v1/files links

    async def delete_prefix(self, prefix: str) -> int:
        return await asyncio.to_thread(self._delete_prefix_sync, prefix)

    def _delete_prefix_sync(self, prefix: str) -> int:
        folder = self._path(prefix.rstrip("/"))
        if folder.is_file():
            folder.unlink()
            return 1
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        return count
