"""Posters and spritesheets made the first time they are read, not for every video collected.

``OnDemandPreviews`` wraps the storage the runtime hands to everything else. Reading an output's
``.thumbnail.jpg`` or ``.spritesheet.jpg`` key (``jobs.layout``) that is not stored yet makes it in
the media process from the stored MP4, stores it and answers with it, so both the content route
(``variant=thumbnail|spritesheet``) and the signed ``thumbnail_url``/``spritesheet_url`` links keep
working. Concurrent reads of one missing image make it once. Used with local storage, where every
read comes through the API; a bucket hands out presigned links the API never sees, so there the
collector makes both images eagerly (``jobs.collect``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from reelay.errors import InvalidMedia, ServiceUnavailable, VideoNotFound
from reelay.jobs.layout import preview_source
from reelay.jobs.postprocess import PreviewKind, make_preview
from reelay.procpool import ProcessPool, RenderOutOfMemory, TaskKilled
from reelay.storage.base import Storage

log = logging.getLogger("reelay.previews")


class OnDemandPreviews:
    """A ``Storage`` that makes a missing poster or spritesheet on read; everything else passes through."""

    def __init__(self, storage: Storage, media: ProcessPool, scratch_dir: Path) -> None:
        self.storage = storage
        self.media = media
        self.scratch_dir = scratch_dir
        self._making: dict[str, asyncio.Future[Path | None]] = {}

    async def put_file(self, key: str, source: Path) -> int:
        return await self.storage.put_file(key, source)

    async def local_path(self, key: str) -> Path | None:
        path = await self.storage.local_path(key)
        source = preview_source(key) if path is None else None
        if source is None:
            return path
        making = self._making.get(key)
        if making is None:
            making = asyncio.ensure_future(self._make(key, *source))
            self._making[key] = making
            making.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(making)  # one reader giving up does not stop the others' image

    def _forget(self, key: str, done: asyncio.Future[Path | None]) -> None:
        self._making.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: every reader may have left before it ended

    async def exists(self, key: str) -> bool:
        return await self.storage.exists(key)

    def key_for_path(self, path: Path) -> str | None:
        return self.storage.key_for_path(path)

    async def delete_prefix(self, prefix: str) -> int:
        return await self.storage.delete_prefix(prefix)

    def download_url(self, key: str, expires: int) -> str | None:
        return self.storage.download_url(key, expires)

    async def _make(self, key: str, video_key: str, kind: PreviewKind) -> Path | None:
        """Make, store and return the image; None if the video is gone (deleted, expired)."""
        video = await self.storage.local_path(video_key)
        if video is None:
            return None
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        image = self.scratch_dir / f"preview-{uuid.uuid4().hex}.jpg"
        try:
            await self.media.run(make_preview, str(video), str(image), kind)
            await self.storage.put_file(key, image)
        except InvalidMedia as error:  # probed at collection, yet no frame decodes: asking again will not help
            raise VideoNotFound(f"this video has no frame to make its {kind} from: {error.message}") from error
        except RenderOutOfMemory as error:  # the same video would need as much next time
            raise VideoNotFound(
                f"this video's {kind} needs more memory than REELAY_RENDER_MEMORY_MB allows a media process"
            ) from error
        except (BrokenProcessPool, TaskKilled) as error:  # the process died: a fresh one may well succeed
            log.warning("preview not made", extra={"key": key, "error": type(error).__name__})
            raise ServiceUnavailable(
                f"the {kind} could not be made just now; retry shortly", code="preview_unavailable"
            ) from error
        finally:
            with contextlib.suppress(OSError):
                image.unlink()
        if not await self.storage.exists(video_key):  # deleted while its image was being made: no orphan
            await self.storage.delete_prefix(key)
            return None
        return await self.storage.local_path(key)


__all__ = ["OnDemandPreviews"]
