"""Posters and spritesheets made on first read (``jobs.previews``), and the collector that leaves them
for then: a probe only at collection, the image in the media process when a client asks, once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from reelay.api.errors import install
from reelay.errors import ServiceUnavailable, VideoNotFound
from reelay.jobs.collect import Collector
from reelay.jobs.layout import output_keys, preview_source
from reelay.jobs.previews import OnDemandPreviews
from reelay.procpool import PROBE_STACK, ProcessPool, RenderOutOfMemory
from reelay.providers.base import PollResult
from reelay.storage.local import LocalStorage
from tests.media_helpers import make_video


class CountingPool:
    """The real media pool, counting the tasks it was given."""

    def __init__(self, pool: ProcessPool) -> None:
        self.pool = pool
        self.tasks: list[str] = []

    async def run(self, fn: Any, *args: Any) -> Any:
        self.tasks.append(fn.__name__)
        return await self.pool.run(fn, *args)


@pytest.fixture(scope="module")
def media() -> Iterator[ProcessPool]:
    pool = ProcessPool(1, preload=PROBE_STACK)
    yield pool
    pool.shutdown()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return make_video(tmp_path / "source.mp4", seconds=1.0, width=320, height=176)


def test_preview_keys_name_their_video() -> None:
    video, thumb, sprite = output_keys("video_abc", 1)
    assert preview_source(thumb) == (video, "thumbnail")
    assert preview_source(sprite) == (video, "spritesheet")
    for other in (video, "inputs/video_abc/reference0.png", "videos/video_abc/1.thumbnail.png", "x.thumbnail.jpg"):
        assert preview_source(other) is None


async def test_a_missing_preview_is_made_once_stored_and_then_served(
    tmp_path: Path, media: ProcessPool, video: Path
) -> None:
    storage = LocalStorage(tmp_path / "files")
    video_key, thumb_key, sprite_key = output_keys("video_abc", 0)
    await storage.put_file(video_key, video)
    counting = CountingPool(media)
    previews = OnDemandPreviews(storage, counting, tmp_path / "scratch")  # type: ignore[arg-type]

    first, second = await asyncio.gather(previews.local_path(thumb_key), previews.local_path(thumb_key))
    assert first is not None and first == second == await storage.local_path(thumb_key)
    with Image.open(first) as image:
        assert image.format == "JPEG" and image.width == 320
    assert counting.tasks == ["make_preview"]  # two readers at once, one image made
    assert await previews.local_path(thumb_key) == first
    assert counting.tasks == ["make_preview"]  # stored: not made again

    sheet = await previews.local_path(sprite_key)
    assert sheet is not None and counting.tasks == ["make_preview", "make_preview"]
    assert await previews.local_path(video_key) == await storage.local_path(video_key)  # passed through
    assert list((tmp_path / "scratch").iterdir()) == []  # no temporary image left


async def test_no_preview_for_a_deleted_video(tmp_path: Path, media: ProcessPool) -> None:
    previews = OnDemandPreviews(LocalStorage(tmp_path / "files"), media, tmp_path / "scratch")
    assert await previews.local_path(output_keys("video_gone", 0)[1]) is None


async def test_a_video_with_no_decodable_frame_answers_not_found(tmp_path: Path, media: ProcessPool) -> None:
    storage = LocalStorage(tmp_path / "files")
    video_key, thumb_key, _ = output_keys("video_bad", 0)
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all" * 100)
    await storage.put_file(video_key, tmp_path / "bad.mp4")
    with pytest.raises(VideoNotFound, match="no frame to make its thumbnail"):
        await OnDemandPreviews(storage, media, tmp_path / "scratch").local_path(thumb_key)
    assert await storage.exists(thumb_key) is False


class FailingPool:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def run(self, fn: Any, *args: Any) -> Any:
        raise self.error


async def test_a_preview_over_the_memory_limit_answers_not_found(tmp_path: Path, video: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    video_key, thumb_key, _ = output_keys("video_abc", 0)
    await storage.put_file(video_key, video)
    failing = FailingPool(RenderOutOfMemory("the task needed more than 4096 MB"))
    with pytest.raises(VideoNotFound, match="REELAY_RENDER_MEMORY_MB"):  # permanent: no Retry-After
        await OnDemandPreviews(storage, failing, tmp_path / "scratch").local_path(thumb_key)  # type: ignore[arg-type]


async def test_a_media_process_that_dies_answers_503_with_retry_after(tmp_path: Path, video: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    video_key, thumb_key, _ = output_keys("video_abc", 0)
    await storage.put_file(video_key, video)
    died = FailingPool(BrokenProcessPool("the render process died (exit code -9) while running a task"))
    previews = OnDemandPreviews(storage, died, tmp_path / "scratch")  # type: ignore[arg-type]
    with pytest.raises(ServiceUnavailable) as caught:
        await previews.local_path(thumb_key)
    assert caught.value.code == "preview_unavailable"

    app = FastAPI()
    install(app)

    @app.get("/thumb")
    async def thumb() -> None:
        await previews.local_path(thumb_key)

    response = TestClient(app).get("/thumb")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "preview_unavailable"


class OneVideo:
    """A provider whose every output is the same local MP4."""

    def __init__(self, video: Path) -> None:
        self.video = video

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        destination.write_bytes(self.video.read_bytes())


@pytest.mark.parametrize("eager", [False, True])
async def test_the_collector_makes_images_only_when_eager(
    tmp_path: Path, media: ProcessPool, video: Path, eager: bool
) -> None:
    storage = LocalStorage(tmp_path / "files")
    counting = CountingPool(media)
    collector = Collector(storage, counting, tmp_path / "scratch", eager_previews=eager)  # type: ignore[arg-type]
    result = PollResult("succeeded", progress=1.0)
    output = await collector.collect("video_abc", OneVideo(video), "up_1", result, 0)  # type: ignore[arg-type]
    assert (output.width, output.height, output.has_audio) == (320, 176, True)
    assert output.thumbnail_key == "videos/video_abc/0.thumbnail.jpg"  # recorded either way
    assert await storage.exists(output.thumbnail_key) is eager
    assert await storage.exists(output.spritesheet_key or "") is eager
    assert counting.tasks == (["postprocess_video"] if eager else ["probe_output"])
