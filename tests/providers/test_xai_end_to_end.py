"""Reelay → xAI adapter → loopback fake, driven over HTTP: the whole path with only xAI faked.

The app is built exactly as in production (``create_app``); it finds the xAI provider through
``XAI_API_KEY`` / ``XAI_BASE_URL`` in the environment at start-up.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.providers.xai import XAIProvider
from tests.media_helpers import probe
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.xai_fake import XAIFake


@pytest.fixture(scope="module")
def app_client(
    xai_server: tuple[XAIFake, LoopbackServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XAI_API_KEY", "test")
        patch.setenv("XAI_BASE_URL", xai_server[1].url)
        patch.setattr(XAIProvider, "poll_interval", 0.05)
        data_dir = tmp_path_factory.mktemp("reelay-xai")
        with TestClient(create_app(Settings(data_dir=data_dir, local_render_processes=1))) as client:
            client.data_dir = data_dir  # type: ignore[attr-defined]
            yield client


def finish(client: TestClient, video_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/videos/{video_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} is stuck: {client.get(f'/v1/videos/{video_id}').json()}")


def assert_completed_with_mp4(client: TestClient, body: dict[str, Any], tmp_path: Path) -> None:
    assert body["status"] == "completed", body
    assert body["metadata"]["provider"] == "xai"
    content = client.get(f"/v1/videos/{body['id']}/content")
    assert content.status_code == 200 and content.headers["content-type"].startswith("video/mp4")
    (tmp_path / "got.mp4").write_bytes(content.content)
    assert probe(tmp_path / "got.mp4")["video_codec"] == "h264"
    stored = list((client.data_dir / "files" / "videos" / body["id"]).glob("*.mp4"))  # type: ignore[attr-defined]
    assert len(stored) == 1


def test_text_to_video(app_client: TestClient, xai_fake: XAIFake, tmp_path: Path) -> None:
    created = app_client.post(
        "/v1/videos", json={"model": "grok-imagine-video", "prompt": "a fox", "seconds": 4, "size": "1365x768"}
    )
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(app_client, finish(app_client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    assert create.path == "/v1/videos/generations"
    assert create.body == {
        "model": "grok-imagine-video",
        "prompt": "a fox",
        "duration": 4,
        "aspect_ratio": "16:9",
        "resolution": "720p",
    }


def create_with_image(client: TestClient, provider_media: Path, fields: dict[str, str]) -> Any:
    """A multipart create with the test PNG uploaded as input_reference."""
    with open(provider_media / "reference.png", "rb") as image:
        return client.post("/v1/videos", data=fields, files={"input_reference": ("reference.png", image, "image/png")})


def test_image_to_video(app_client: TestClient, xai_fake: XAIFake, provider_media: Path, tmp_path: Path) -> None:
    fields = {"model": "grok-imagine-video", "prompt": "slow push in", "seconds": "3"}
    created = create_with_image(app_client, provider_media, fields)
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(app_client, finish(app_client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    assert create.path == "/v1/videos/generations" and create.body["duration"] == 3
    assert create.body["image"]["url"].startswith("data:image/png;base64,")
    assert create.body["aspect_ratio"] == "4:3"  # the 320x240 reference's shape


def test_reference_to_video_sends_every_image_as_a_reference(
    app_client: TestClient, xai_fake: XAIFake, provider_media: Path, tmp_path: Path
) -> None:
    png = base64.b64encode((provider_media / "reference.png").read_bytes()).decode()
    references = [{"image_url": f"data:image/png;base64,{png}"} for _ in range(3)]
    prompt = "@Image1 meets @Image2 at @Image3"
    created = app_client.post(
        "/v1/videos", json={"model": "grok-imagine-video", "prompt": prompt, "input_reference": references}
    )
    assert created.status_code == 202, created.text
    body = finish(app_client, created.json()["id"])
    assert_completed_with_mp4(app_client, body, tmp_path)
    (create,) = xai_fake.creates()  # the fake refuses image + reference_images together, and over 7
    assert create.path == "/v1/videos/generations" and "image" not in create.body
    assert [ref["url"] for ref in create.body["reference_images"]] == [f"data:image/png;base64,{png}"] * 3
    assert create.body["aspect_ratio"] == "16:9"  # references do not set the frame: the card's default
    (entry,) = [e for e in body["metadata"]["normalization"] if e["param"] == "input_reference"]
    assert entry["upstream"] == "reference_images" and entry["value"] == {"images": 3, "used_as": "references"}


def test_one_image_as_a_reference_when_asked(
    app_client: TestClient, xai_fake: XAIFake, provider_media: Path, tmp_path: Path
) -> None:
    fields = {"model": "grok-imagine-video", "prompt": "@Image1 walks", "reference_mode": "references"}
    created = create_with_image(app_client, provider_media, fields)
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(app_client, finish(app_client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    assert len(create.body["reference_images"]) == 1 and "image" not in create.body
    assert "reference_mode" not in create.body  # a gateway field, never sent upstream


def test_eight_references_are_refused_before_a_job_exists(
    app_client: TestClient, xai_fake: XAIFake, provider_media: Path
) -> None:
    png = "data:image/png;base64," + base64.b64encode((provider_media / "reference.png").read_bytes()).decode()
    response = app_client.post(
        "/v1/videos",
        json={"model": "grok-imagine-video", "prompt": "crowd", "input_reference": [{"image_url": png}] * 8},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "input_reference" and "at most 7" in error["message"], error
    assert xai_fake.creates() == []


def test_video_to_video_is_an_edit(
    app_client: TestClient, xai_fake: XAIFake, provider_media: Path, tmp_path: Path
) -> None:
    source = (provider_media / "input.mp4").read_bytes()
    data_uri = "data:video/mp4;base64," + base64.b64encode(source).decode()
    created = app_client.post(
        "/v1/videos", json={"model": "grok-imagine-video", "prompt": "make it snow", "input_video": data_uri}
    )
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(app_client, finish(app_client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    assert create.path == "/v1/videos/edits" and set(create.body) == {"model", "prompt", "video"}
    assert base64.b64decode(create.body["video"]["url"].split(",", 1)[1]) == source


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ({"outcome": "moderated"}, "content_policy_violation"),
        ({"fault": {"method": "POST", "path": "/v1/videos", "status": 401}}, "upstream_auth_failed"),
        ({"outcome": "expired"}, "upstream_expired"),
        ({"output_expired": True}, "upstream_output_expired"),
        (
            {"fault": {"method": "POST", "path": "/v1/videos", "status": 400, "body": {"error": "bad"}}},
            "upstream_rejected",
        ),
    ],
)
def test_failures_end_in_a_clean_failed_job(
    app_client: TestClient, xai_fake: XAIFake, script: dict[str, Any], code: str
) -> None:
    if "fault" in script:
        xai_fake.fail_next(**script["fault"])
    xai_fake.outcome = script.get("outcome", "done")
    xai_fake.output_expired = script.get("output_expired", False)
    created = app_client.post("/v1/videos", json={"model": "grok-imagine-video", "prompt": "a fox", "seconds": 2})
    assert created.status_code == 202, created.text
    body = finish(app_client, created.json()["id"])
    assert body["status"] == "failed" and body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert app_client.get(f"/v1/videos/{body['id']}/content").status_code == 409


def test_one_503_then_success_completes(app_client: TestClient, xai_fake: XAIFake, tmp_path: Path) -> None:
    xai_fake.fail_next(method="POST", path="/v1/videos", status=503)
    created = app_client.post("/v1/videos", json={"model": "grok-imagine-video", "prompt": "a fox", "seconds": 2})
    body = finish(app_client, created.json()["id"])
    assert_completed_with_mp4(app_client, body, tmp_path)
    assert len(xai_fake.creates()) == 2


def test_a_failed_poll_is_retried_in_place(app_client: TestClient, xai_fake: XAIFake, tmp_path: Path) -> None:
    xai_fake.fail_next(method="GET", path="/v1/videos/", status=500)
    created = app_client.post("/v1/videos", json={"model": "grok-imagine-video", "prompt": "a fox", "seconds": 2})
    assert_completed_with_mp4(app_client, finish(app_client, created.json()["id"]), tmp_path)
    assert len(xai_fake.creates()) == 1  # polled again, never resubmitted


@pytest.mark.parametrize(
    ("route", "path"), [("/v1/videos/edits", "/v1/videos/edits"), ("/v1/videos/extensions", "/v1/videos/extensions")]
)
def test_edit_and_extension_routes(
    app_client: TestClient, xai_fake: XAIFake, provider_media: Path, tmp_path: Path, route: str, path: str
) -> None:
    with open(provider_media / "input.mp4", "rb") as video:
        created = app_client.post(
            route,
            data={"model": "grok-imagine-video", "prompt": "and then it snows", "seconds": "3"},
            files={"video": ("input.mp4", video, "video/mp4")},
        )
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(app_client, finish(app_client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    assert create.path == path and create.body["video"]["url"].startswith("data:video/mp4;base64,")
    if path.endswith("extensions"):
        assert create.body["duration"] == 3  # the ADDED seconds
    else:
        assert "duration" not in create.body


def test_a_character_becomes_reference_images(
    app_client: TestClient, xai_fake: XAIFake, provider_media: Path, tmp_path: Path
) -> None:
    """``characters: [id]`` on a reference-to-video model: the character's stills as reference_images."""
    with open(provider_media / "output.mp4", "rb") as clip:
        upload = {"video": ("m.mp4", clip, "video/mp4")}
        made = app_client.post("/v1/videos/characters", data={"name": "Mira"}, files=upload)
    assert made.status_code == 200, made.text
    character = made.json()
    assert character["object"] == "character" and character["id"].startswith("char_")
    created = app_client.post(
        "/v1/videos", json={"model": "grok-imagine-video", "prompt": "@Image1 waves", "characters": [character["id"]]}
    )
    assert created.status_code == 202, created.text
    assert_completed_with_mp4(app_client, finish(app_client, created.json()["id"]), tmp_path)
    (create,) = xai_fake.creates()
    assert "image" not in create.body and "characters" not in create.body  # a gateway field, never sent upstream
    urls = [ref["url"] for ref in create.body["reference_images"]]
    assert len(urls) == 3 and all(url.split(",", 1)[1].startswith("/9j/") for url in urls)  # JPEG stills
    assert len(set(urls)) == 3  # three different stills across the clip
