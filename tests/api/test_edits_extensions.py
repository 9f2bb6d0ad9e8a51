"""POST /v1/videos/edits and /v1/videos/extensions on the local engine, in every shape clients send."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import LiveServer, wait_until_finished
from tests.media_helpers import first_frame, make_video, probe


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def source(client: httpx.Client) -> dict[str, object]:
    created = client.post("/v1/videos", json={"prompt": "sunset over the ocean", "seconds": 2, "size": "320x180"})
    done = wait_until_finished(client, created.json()["id"])
    assert done["status"] == "completed", done
    return done


def fetch(url: str, target: Path) -> Path:
    target.write_bytes(httpx.get(url, timeout=30).content)
    return target


def assert_grey(path: Path) -> None:
    rgb = first_frame(path).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 1]).mean() < 4


def test_edit_by_id_json(client: httpx.Client, source: dict[str, object], tmp_path: Path) -> None:
    body = {"prompt": "make it black and white", "video": {"id": source["id"]}}
    response = client.post("/v1/videos/edits", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["model"] == source["model"]  # defaults to the source's model
    done = wait_until_finished(client, response.json()["id"])
    assert done["status"] == "completed", done
    path = fetch(done["output"]["url"], tmp_path / "edit.mp4")  # type: ignore[index]
    info = probe(path)
    assert (info["width"], info["height"]) == (320, 180) and abs(float(info["duration"]) - 2) <= 0.1  # type: ignore[arg-type]
    assert_grey(path)


def test_edit_with_the_sdks_multipart_shapes(client: httpx.Client, source: dict[str, object], media_dir: Path) -> None:
    by_id = client.post("/v1/videos/edits", data={"prompt": "monochrome", "video[id]": str(source["id"])})
    assert by_id.status_code == 202, by_id.text
    with open(media_dir / "input.mp4", "rb") as handle:
        upload = client.post(
            "/openai/v1/videos/edits", data={"prompt": "mirror it"}, files={"video": ("in.mp4", handle, "video/mp4")}
        )
    assert upload.status_code == 202, upload.text
    for response in (by_id, upload):
        assert wait_until_finished(client, response.json()["id"])["status"] == "completed"


def test_extension_returns_the_joined_clip(client: httpx.Client, source: dict[str, object], tmp_path: Path) -> None:
    response = client.post(
        "/v1/videos/extensions", json={"prompt": "keep drifting", "seconds": "2", "video": {"id": source["id"]}}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["seconds"] == "4" and body["size"] == "320x180"  # the stitched total, the input's shape
    done = wait_until_finished(client, body["id"])
    assert done["status"] == "completed", done
    info = probe(fetch(done["output"]["url"], tmp_path / "extended.mp4"))  # type: ignore[index]
    assert abs(float(info["duration"]) - 4) <= 0.1 and info["audio_codec"] == "aac"  # type: ignore[arg-type]


def test_extension_over_the_total_cap(client: httpx.Client, tmp_path: Path) -> None:
    long_input = make_video(tmp_path / "long.mp4", seconds=20, width=64, height=48, audio=False)
    with open(long_input, "rb") as handle:
        response = client.post(
            "/v1/videos/extensions",
            data={"prompt": "x", "seconds": "12"},
            files={"video": ("l.mp4", handle, "video/mp4")},
        )
    assert response.status_code == 400 and response.json()["error"]["param"] == "seconds"
    assert "30 s" in response.json()["error"]["message"]


def test_edit_and_extension_errors(client: httpx.Client, source: dict[str, object]) -> None:
    missing = client.post("/v1/videos/edits", json={"prompt": "x"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "video"
    unknown = client.post("/v1/videos/edits", json={"prompt": "x", "video": {"id": "video_nope"}})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "video_not_found"
    clamped = client.post(
        "/v1/videos/extensions?dryRun=true", json={"prompt": "x", "seconds": 29, "video": {"id": source["id"]}}
    )
    report = {item["param"]: item for item in clamped.json()["normalization"]}
    assert report["seconds"]["value"] == 15 and report["seconds"]["behaviour"] == "converted"  # the card's max
    no_prompt = client.post("/v1/videos/extensions", json={"seconds": 2, "video": {"id": source["id"]}})
    assert no_prompt.status_code == 400 and no_prompt.json()["error"]["param"] == "prompt"
    queued = client.post("/v1/videos", json={"prompt": "long", "seconds": 15}).json()["id"]
    not_ready = client.post("/v1/videos/extensions", json={"prompt": "x", "seconds": 2, "video": {"id": queued}})
    assert not_ready.status_code == 409 and not_ready.json()["error"]["code"] == "video_not_ready"
    client.delete(f"/v1/videos/{queued}")
