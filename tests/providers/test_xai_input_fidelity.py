"""Issue 12's done-when, over HTTP against the strict xAI fake: what Reelay sends xAI is what xAI takes.

The fake refuses what xAI documents as invalid (10 s with reference images, a data URI whose type is
not its bytes, non-MP4 videos, edit inputs over 8.7 s, extension inputs outside 2-15 s), so every
request here either completes or is refused at create with a 4xx: no job fails upstream.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.providers.xai import XAIProvider
from tests.media_helpers import make_image, make_video, probe
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.media_rules import decode_data_uri, sniff
from tests.providers.fakes.xai_fake import XAIFake
from tests.providers.test_xai_end_to_end import assert_completed_with_mp4, finish


@pytest.fixture(scope="module")
def client(
    xai_server: tuple[XAIFake, LoopbackServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XAI_API_KEY", "test")
        patch.setenv("XAI_BASE_URL", xai_server[1].url)
        patch.setattr(XAIProvider, "poll_interval", 0.05)
        data_dir = tmp_path_factory.mktemp("reelay-xai-fidelity")
        with TestClient(create_app(Settings(data_dir=data_dir, local_render_processes=1))) as app_client:
            app_client.data_dir = data_dir  # type: ignore[attr-defined]
            yield app_client


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fidelity-media")
    png = make_image(folder / "frame.png", 320, 240)
    Image.open(png).convert("RGB").save(folder / "frame.jpg", format="JPEG", quality=90)
    Image.open(png).convert("RGB").save(folder / "frame.webp", format="WEBP")
    Image.open(png).convert("RGB").save(folder / "frame.bmp", format="BMP")
    make_video(folder / "clip.mov", seconds=2.0, container_format="mov")
    make_video(folder / "clip.webm", seconds=2.0, container_format="webm", codec="libvpx-vp9", audio=False)
    make_video(folder / "long.mp4", seconds=10.0, width=160, height=120, fps=12, audio=False)
    make_video(folder / "short.mp4", seconds=1.0, width=160, height=120, audio=False)
    return folder


def sent_image(create: Any, field: str = "image") -> tuple[str, bytes]:
    decoded = decode_data_uri(create.body[field]["url"])
    assert decoded is not None
    return decoded


def report(body: dict[str, Any], param: str) -> list[dict[str, Any]]:
    return [entry for entry in body["metadata"]["normalization"] if entry["param"] == param]


def test_jpeg_data_uri_goes_out_labelled_jpeg(
    client: TestClient, xai_fake: XAIFake, media: Path, tmp_path: Path
) -> None:
    jpeg = (media / "frame.jpg").read_bytes()
    image_url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    created = client.post(
        "/v1/videos",
        json={
            "model": "grok-imagine-video",
            "prompt": "push in",
            "seconds": 3,
            "input_reference": {"image_url": image_url},
        },
    )
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(client, finish(client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    assert sent_image(create) == ("image/jpeg", jpeg)  # the bytes as sent, with their own type
    stored = list((client.data_dir / "files" / "inputs" / created.json()["id"]).iterdir())  # type: ignore[attr-defined]
    assert [p.suffix for p in stored] == [".jpg"]


def test_jpeg_uploaded_as_png_is_labelled_by_its_bytes(
    client: TestClient, xai_fake: XAIFake, media: Path, tmp_path: Path
) -> None:
    """A multipart upload whose name and content type both claim PNG: the bytes (JPEG) decide."""
    with open(media / "frame.jpg", "rb") as handle:
        created = client.post(
            "/v1/videos",
            data={"model": "grok-imagine-video", "prompt": "push in", "seconds": "3"},
            files={"input_reference": ("photo.png", handle, "image/png")},
        )
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(client, finish(client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    mime, data = sent_image(create)
    assert mime == sniff(data) == "image/jpeg"


def test_a_bmp_is_converted_to_a_type_xai_takes_and_the_report_says_so(
    client: TestClient, xai_fake: XAIFake, media: Path, tmp_path: Path
) -> None:
    with open(media / "frame.bmp", "rb") as handle:
        created = client.post(
            "/v1/videos",
            data={"model": "grok-imagine-video", "prompt": "push in", "seconds": "2"},
            files={"input_reference": ("frame.bmp", handle, "image/bmp")},
        )
    assert created.status_code == 202, created.text
    body = finish(client, created.json()["id"])
    assert_completed_with_mp4(client, body, tmp_path)
    (create,) = xai_fake.creates()
    assert sent_image(create)[0] == "image/png"
    (entry,) = [e for e in report(body, "input_reference") if e["requested"] == "image/bmp"]
    assert (entry["behaviour"], entry["value"]) == ("converted", "image/png")


def test_twelve_seconds_with_references_becomes_ten_and_is_reported(
    client: TestClient, xai_fake: XAIFake, media: Path, tmp_path: Path
) -> None:
    png = "data:image/png;base64," + base64.b64encode((media / "frame.png").read_bytes()).decode()
    created = client.post(
        "/v1/videos",
        json={
            "model": "grok-imagine-video",
            "prompt": "@Image1 and @Image2",
            "seconds": 12,
            "input_reference": [{"image_url": png}] * 2,
        },
    )
    assert created.status_code == 202, created.text
    assert created.json()["seconds"] == "10"
    body = finish(client, created.json()["id"])
    assert_completed_with_mp4(client, body, tmp_path)
    (create,) = xai_fake.creates()
    assert create.body["duration"] == 10 and len(create.body["reference_images"]) == 2
    (entry,) = report(body, "seconds")
    assert entry["behaviour"] == "converted" and "reference images" in entry["note"]


def test_fifteen_seconds_without_references_is_kept(client: TestClient, xai_fake: XAIFake) -> None:
    created = client.post("/v1/videos", json={"model": "grok-imagine-video", "prompt": "a fox", "seconds": 15})
    assert created.status_code == 202 and created.json()["seconds"] == "15", created.text
    finish(client, created.json()["id"])
    (create,) = xai_fake.creates()
    assert create.body["duration"] == 15


@pytest.mark.parametrize("name", ["clip.mov", "clip.webm"])
def test_mov_and_webm_edits_are_sent_as_h264_mp4(
    client: TestClient, xai_fake: XAIFake, media: Path, tmp_path: Path, name: str
) -> None:
    with open(media / name, "rb") as handle:
        created = client.post(
            "/v1/videos/edits",
            data={"model": "grok-imagine-video", "prompt": "make it snow"},
            files={"video": (name, handle, "application/octet-stream")},
        )
    assert created.status_code == 202, created.text
    body = finish(client, created.json()["id"])
    assert_completed_with_mp4(client, body, tmp_path)
    (create,) = xai_fake.creates()
    mime, data = sent_image(create, "video")
    assert mime == sniff(data) == "video/mp4"
    (tmp_path / "sent.mp4").write_bytes(data)
    assert probe(tmp_path / "sent.mp4")["video_codec"] == "h264"
    (entry,) = report(body, "input_video")[-1:]
    assert entry["behaviour"] == "converted" and entry["value"] == {"container": "mp4", "codec": "h264"}
    assert entry["requested"]["container"] == name.rsplit(".", 1)[1]


def test_an_edit_input_over_eight_point_seven_seconds_is_refused_at_create(
    client: TestClient, xai_fake: XAIFake, media: Path
) -> None:
    with open(media / "long.mp4", "rb") as handle:
        response = client.post(
            "/v1/videos/edits",
            data={"model": "grok-imagine-video", "prompt": "snow"},
            files={"video": ("long.mp4", handle, "video/mp4")},
        )
    assert response.status_code == 400 and "8.7" in response.json()["error"]["message"], response.text
    assert xai_fake.creates() == []


def test_an_extension_input_under_two_seconds_is_refused_at_create(
    client: TestClient, xai_fake: XAIFake, media: Path
) -> None:
    with open(media / "short.mp4", "rb") as handle:
        response = client.post(
            "/v1/videos/extensions",
            data={"model": "grok-imagine-video", "prompt": "go on"},
            files={"video": ("short.mp4", handle, "video/mp4")},
        )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "video" and "2-15 s" in error["message"]
    assert xai_fake.creates() == []


def test_an_extension_adds_at_most_ten_seconds(client: TestClient, xai_fake: XAIFake, media: Path) -> None:
    with open(media / "clip.mov", "rb") as handle:
        created = client.post(
            "/v1/videos/extensions",
            data={"model": "grok-imagine-video", "prompt": "go on", "seconds": "14"},
            files={"video": ("clip.mov", handle, "video/quicktime")},
        )
    assert created.status_code == 202, created.text
    body = finish(client, created.json()["id"])
    assert body["status"] == "completed", body
    (create,) = xai_fake.creates()
    assert create.path == "/v1/videos/extensions" and create.body["duration"] == 10


def test_grok_1_5_does_not_claim_edits(client: TestClient, xai_fake: XAIFake, media: Path) -> None:
    with open(media / "short.mp4", "rb") as handle:
        response = client.post(
            "/v1/videos/edits",
            data={"model": "grok-imagine-video-1.5", "prompt": "snow"},
            files={"video": ("short.mp4", handle, "video/mp4")},
        )
    assert 400 <= response.status_code < 500, response.text
    assert xai_fake.creates() == []


def test_the_strict_fake_refuses_a_mislabelled_data_uri(media: Path) -> None:
    """The rule the old adapter broke: data:image/png around JPEG bytes."""
    from tests.providers.fakes.xai_fake import validate

    jpeg = base64.b64encode((media / "frame.jpg").read_bytes()).decode()
    refused = validate(
        "generations", {"model": "grok-imagine-video", "prompt": "p", "image": {"url": f"data:image/png;base64,{jpeg}"}}
    )
    assert refused is not None and "image/jpeg" in refused[1]
    too_long = validate(
        "generations",
        {
            "model": "grok-imagine-video",
            "prompt": "p",
            "duration": 12,
            "reference_images": [{"url": "https://example.com/a.png"}],
        },
    )
    assert too_long is not None and too_long[0] == 400
    assert Image.open(io.BytesIO(base64.b64decode(jpeg))).format == "JPEG"
