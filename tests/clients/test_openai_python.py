"""The official ``openai`` Python package, unchanged, against a real ``reelay serve``: only base_url differs.

Every call the SDK's ``videos`` resource has, each ending in a downloaded MP4 probed with PyAV. The
SDK warns that OpenAI's own Videos API shut down (2026-09-24); that warning is expected here.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from openai import OpenAI, omit
from PIL import Image, ImageOps

from tests.clients.conftest import assert_probed_mp4
from tests.conftest import LiveServer
from tests.media_helpers import first_frame

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API is scheduled to permanently shut down:DeprecationWarning")


@pytest.fixture(scope="module")
def sdk(server: LiveServer) -> Iterator[OpenAI]:
    client = OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
    yield client
    client.close()


def save(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def extras(video: Any) -> dict[str, Any]:
    """Reelay's extra fields (output, metadata) as the SDK keeps them: in ``model_extra``."""
    extra: dict[str, Any] = video.model_extra or {}
    return extra


def test_create_poll_retrieve_and_download_every_variant(sdk: OpenAI, tmp_path: Path) -> None:
    video = sdk.videos.create(model="reelay-local", prompt="a red fox in the snow", seconds="4", size="1280x720")
    assert video.status == "queued" and video.object == "video" and video.id.startswith("video_")
    done = sdk.videos.poll(video.id, poll_interval_ms=200)
    assert done.status == "completed" and done.progress == 100 and done.completed_at and done.expires_at
    assert sdk.videos.retrieve(video.id).status == "completed"
    assert_probed_mp4(
        save(sdk.videos.download_content(video.id).content, tmp_path / "fox.mp4"), size="1280x720", seconds=4
    )
    thumbnail = sdk.videos.download_content(video.id, variant="thumbnail").content
    spritesheet = sdk.videos.download_content(video.id, variant="spritesheet").content
    assert thumbnail[:3] == spritesheet[:3] == b"\xff\xd8\xff"
    assert extras(done)["metadata"]["provider"] == "local"


def test_create_and_poll_with_reelay_extras(sdk: OpenAI, tmp_path: Path) -> None:
    """n, aspect_ratio and resolution travel in extra_body (the SDK sends them as multipart fields)."""
    done = sdk.videos.create_and_poll(
        prompt="fireflies in a forest",
        seconds="2",
        poll_interval_ms=200,
        extra_body={"n": 2, "aspect_ratio": "9:16", "resolution": "480p"},
    )
    assert done.status == "completed", done.error
    assert done.size == "480x854"  # the nearest supported size for 9:16 at 480p (reported below)
    output, metadata = extras(done)["output"], extras(done)["metadata"]
    assert [r["index"] for r in output["results"]] == [0, 1]
    report = {item["param"]: item for item in metadata["normalization"]}
    assert report["n"]["behaviour"] == "emulated" and {"aspect_ratio", "resolution"} <= report.keys()
    second = sdk.videos.download_content(done.id, extra_query={"index": 1}).content
    assert_probed_mp4(save(second, tmp_path / "second.mp4"), size=done.size, seconds=2)


def test_multipart_input_reference_with_a_file_object(sdk: OpenAI, media_dir: Path, tmp_path: Path) -> None:
    with open(media_dir / "reference.png", "rb") as image:
        video = sdk.videos.create(prompt="slow push in", input_reference=image, seconds="2", size="640x480")
    done = sdk.videos.poll(video.id, poll_interval_ms=200)
    assert done.status == "completed", done.error
    path = save(sdk.videos.download_content(done.id).content, tmp_path / "i2v.mp4")
    assert_probed_mp4(path, size="640x480", seconds=2)
    reference = np.asarray(ImageOps.fit(Image.open(media_dir / "reference.png").convert("RGB"), (640, 480)))
    assert np.abs(first_frame(path).astype(int) - reference.astype(int)).mean() < 8


def test_image_url_reference_through_extra_body(sdk: OpenAI, media_dir: Path, tmp_path: Path) -> None:
    """The SDK refuses ``input_reference={"image_url": …}`` client-side (it expects a file there), so the
    object goes in extra_body; the SDK flattens it to ``input_reference[image_url]``, which Reelay reads."""
    data_uri = "data:image/png;base64," + base64.b64encode((media_dir / "reference.png").read_bytes()).decode()
    video = sdk.videos.create(
        prompt="slow push in", seconds="2", size="640x480", extra_body={"input_reference": {"image_url": data_uri}}
    )
    done = sdk.videos.poll(video.id, poll_interval_ms=200)
    assert done.status == "completed", done.error
    path = save(sdk.videos.download_content(done.id).content, tmp_path / "i2v-url.mp4")
    reference = np.asarray(ImageOps.fit(Image.open(media_dir / "reference.png").convert("RGB"), (640, 480)))
    assert np.abs(first_frame(path).astype(int) - reference.astype(int)).mean() < 8  # image-to-video, not text


def test_list_auto_paginates_and_delete_removes(sdk: OpenAI, tmp_path: Path) -> None:
    ids = [sdk.videos.create(prompt=f"page {i}", seconds="1", size="128x128").id for i in range(3)]
    for video_id in ids:
        assert sdk.videos.poll(video_id, poll_interval_ms=200).status == "completed"
    seen = [video.id for video in sdk.videos.list(limit=1, order="asc", after=_before(sdk, ids[0]))]
    assert seen[:3] == ids  # three pages of one, fetched by the SDK's cursor paginator
    first_page = sdk.videos.list(limit=2)
    assert first_page.has_next_page() and [v.id for v in first_page.data] == [ids[2], ids[1]]
    assert_probed_mp4(save(sdk.videos.download_content(ids[0]).content, tmp_path / "p.mp4"), size="128x128", seconds=1)
    deleted = sdk.videos.delete(ids[0])
    assert deleted.deleted is True and deleted.id == ids[0] and deleted.object == "video.deleted"
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(ids[0])


def _before(sdk: OpenAI, video_id: str) -> str | Any:
    """The id listed just before ``video_id`` in ascending order (a cursor), or omit if it is the first."""
    previous: str | Any = omit
    for video in sdk.videos.list(limit=100, order="asc"):
        if video.id == video_id:
            return previous
        previous = video.id
    raise AssertionError(f"{video_id} not listed")


def test_remix(sdk: OpenAI, tmp_path: Path) -> None:
    source = sdk.videos.create_and_poll(prompt="city lights", seconds="2", size="320x180", poll_interval_ms=200)
    remix = sdk.videos.remix(source.id, prompt="make it vintage sepia")
    assert remix.remixed_from_video_id == source.id
    done = sdk.videos.poll(remix.id, poll_interval_ms=200)
    assert done.status == "completed", done.error
    assert_probed_mp4(
        save(sdk.videos.download_content(done.id).content, tmp_path / "remix.mp4"), size="320x180", seconds=2
    )


def test_edit(sdk: OpenAI, tmp_path: Path) -> None:
    source = sdk.videos.create_and_poll(prompt="edit me", seconds="2", size="320x180", poll_interval_ms=200)
    mp4 = sdk.videos.download_content(source.id).content
    by_file = sdk.videos.edit(prompt="make it black and white", video=("in.mp4", mp4, "video/mp4"))
    # The SDK's {"id": …} form fails inside the SDK (it expects a file); extra_body carries it instead.
    by_id = sdk.videos.edit(prompt="mirror it", video=omit, extra_body={"video": {"id": source.id}})
    for video in (by_file, by_id):
        done = sdk.videos.poll(video.id, poll_interval_ms=200)
        assert done.status == "completed", done.error
        path = save(sdk.videos.download_content(done.id).content, tmp_path / f"{done.id}.mp4")
        assert_probed_mp4(path, size="320x180", seconds=2)


def test_extend(sdk: OpenAI, tmp_path: Path) -> None:
    source = sdk.videos.create_and_poll(prompt="extend me", seconds="2", size="320x180", poll_interval_ms=200)
    mp4 = sdk.videos.download_content(source.id).content
    video = sdk.videos.extend(prompt="keep going", seconds="2", video=("in.mp4", mp4, "video/mp4"))
    done = sdk.videos.poll(video.id, poll_interval_ms=200)
    assert done.status == "completed", done.error
    assert done.seconds == "4"  # the joined clip: 2 s source + 2 s added
    assert_probed_mp4(
        save(sdk.videos.download_content(done.id).content, tmp_path / "ext.mp4"), size="320x180", seconds=4
    )
