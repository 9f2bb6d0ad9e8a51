"""Collecting a finished run: download the upstream's output, probe it, make its poster and
spritesheet in a media process, and store all three (``jobs.layout`` keys)."""

from __future__ import annotations

from pathlib import Path

from reelay.jobs.layout import output_keys
from reelay.jobs.postprocess import postprocess_video
from reelay.jobs.spec import VideoOutput
from reelay.procpool import ProcessPool
from reelay.providers.base import PollResult, Provider
from reelay.storage.base import Storage


class Collector:
    def __init__(self, storage: Storage, pool: ProcessPool, scratch_dir: Path) -> None:
        self.storage = storage
        self.pool = pool
        self.scratch_dir = scratch_dir

    async def collect(
        self, video_id: str, provider: Provider, upstream_id: str, result: PollResult, index: int
    ) -> VideoOutput:
        folder = self.scratch_dir / video_id
        folder.mkdir(parents=True, exist_ok=True)
        local = folder / f"{index}.mp4"
        await provider.fetch_output(upstream_id, result, local)
        video_key, thumb_key, sprite_key = output_keys(video_id, index)
        thumb, sprite = folder / f"{index}.thumbnail.jpg", folder / f"{index}.spritesheet.jpg"
        info = await self.pool.run(postprocess_video, str(local), str(thumb), str(sprite))
        size = await self.storage.put_file(video_key, local)
        await self.storage.put_file(thumb_key, thumb)
        await self.storage.put_file(sprite_key, sprite)
        return VideoOutput(
            index=index,
            key=video_key,
            width=info.width,
            height=info.height,
            seconds=info.seconds,
            has_audio=info.has_audio,
            bytes=size,
            thumbnail_key=thumb_key,
            spritesheet_key=sprite_key,
        )


__all__ = ["Collector"]
