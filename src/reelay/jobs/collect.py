"""Collecting a finished run: download the upstream's output, probe it in the media process, store it.

The poster and spritesheet keys (``jobs.layout``) are recorded either way. With ``eager_previews``
both images are made now, beside the probe; without, they are made the first time one is read
(``jobs.previews``), which is what local storage does: a probe is about 10 ms of a media process,
a poster and a spritesheet about 450 ms more, for images most clients never ask for.
"""

from __future__ import annotations

from pathlib import Path

from reelay.jobs.layout import output_keys
from reelay.jobs.postprocess import postprocess_video, probe_output
from reelay.jobs.spec import VideoOutput
from reelay.procpool import ProcessPool
from reelay.providers.base import PollResult, Provider
from reelay.storage.base import Storage


class Collector:
    def __init__(self, storage: Storage, media: ProcessPool, scratch_dir: Path, *, eager_previews: bool) -> None:
        self.storage = storage
        self.media = media
        self.scratch_dir = scratch_dir
        self.eager_previews = eager_previews

    async def collect(
        self, video_id: str, provider: Provider, upstream_id: str, result: PollResult, index: int
    ) -> VideoOutput:
        folder = self.scratch_dir / video_id
        folder.mkdir(parents=True, exist_ok=True)
        local = folder / f"{index}.mp4"
        await provider.fetch_output(upstream_id, result, local)
        video_key, thumb_key, sprite_key = output_keys(video_id, index)
        thumb, sprite = folder / f"{index}.thumbnail.jpg", folder / f"{index}.spritesheet.jpg"
        if self.eager_previews:
            info = await self.media.run(postprocess_video, str(local), str(thumb), str(sprite))
        else:
            info = await self.media.run(probe_output, str(local))
        size = await self.storage.put_file(video_key, local)
        if self.eager_previews:
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
