"""The whole path through real HTTP against a real ``reelay serve``: create → poll → completed →
download through ``output.url`` with no Authorization header → probe the MP4 with PyAV."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.conftest import LiveServer, wait_until_finished
from tests.media_helpers import first_frame, probe


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def download(url: str, target: Path) -> Path:
    """A plain GET, no headers: what a browser does with a printed URL."""
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    target.write_bytes(response.content)
    return target


def assert_mp4(path: Path, *, seconds: float, size: str) -> dict[str, object]:
    info = probe(path)
    width, height = (int(v) for v in size.split("x"))
    assert info["video_codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["audio_codec"] == "aac" and info["sample_rate"] == 48000 and info["channels"] == 2
    assert abs(float(info["duration"]) - seconds) <= 0.1, info  # type: ignore[arg-type]
    assert (info["width"], info["height"]) == (width, height)
    return info


def test_text_to_video(client: httpx.Client, tmp_path: Path) -> None:
    created = client.post("/v1/videos", json={"prompt": "a red fox in the snow", "seconds": 3, "size": "640x360"})
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["object"] == "video" and body["status"] == "queued" and body["progress"] == 0
    assert body["model"] == "reelay-local" and body["size"] == "640x360" and body["seconds"] == "3"
    assert created.headers["X-Reelay-Provider"] == "local"
    done = wait_until_finished(client, body["id"])
    assert done["status"] == "completed", done
    assert done["progress"] == 100 and done["completed_at"] and done["expires_at"]
    output = done["output"]
    assert isinstance(output, dict) and output["has_audio"] is True and output["size"] == "640x360"
    assert_mp4(download(output["url"], tmp_path / "t2v.mp4"), seconds=3, size="640x360")
    metadata = done["metadata"]
    assert isinstance(metadata, dict) and metadata["provider"] == "local" and metadata["cost_estimate"] == 0
    assert {item["param"] for item in metadata["normalization"]} >= {"prompt", "seconds", "size"}


def test_image_to_video_first_frame_is_the_reference(client: httpx.Client, media_dir: Path, tmp_path: Path) -> None:
    with open(media_dir / "reference.png", "rb") as image:
        created = client.post(
            "/v1/videos",
            data={"prompt": "slow push in", "seconds": "2", "size": "640x480"},
            files={"input_reference": ("reference.png", image, "image/png")},
        )
    assert created.status_code == 202, created.text
    done = wait_until_finished(client, created.json()["id"])
    assert done["status"] == "completed", done
    path = download(done["output"]["url"], tmp_path / "i2v.mp4")  # type: ignore[index]
    assert_mp4(path, seconds=2, size="640x480")
    reference = np.asarray(ImageOps.fit(Image.open(media_dir / "reference.png").convert("RGB"), (640, 480)))
    difference = np.abs(first_frame(path).astype(int) - reference.astype(int)).mean()
    assert difference < 8, difference


def test_video_to_video_keeps_duration(client: httpx.Client, media_dir: Path, tmp_path: Path) -> None:
    data_uri = "data:video/mp4;base64," + base64.b64encode((media_dir / "input.mp4").read_bytes()).decode()
    created = client.post("/v1/videos", json={"prompt": "make it black and white", "input_video": data_uri})
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["size"] == "320x240"  # the input's shape when no size is asked for
    done = wait_until_finished(client, body["id"])
    assert done["status"] == "completed", done
    path = download(done["output"]["url"], tmp_path / "v2v.mp4")  # type: ignore[index]
    assert_mp4(path, seconds=2.0, size="320x240")
    rgb = first_frame(path).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 1]).mean() < 4  # grey: channels equal


def test_thumbnail_spritesheet_and_content_route(client: httpx.Client) -> None:
    created = client.post(
        "/openai/v1/videos", json={"prompt": "ocean waves at sunset", "seconds": "1", "size": "320x180"}
    )
    done = wait_until_finished(client, created.json()["id"])
    video_id = done["id"]
    video = client.get(f"/v1/videos/{video_id}/content")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    for variant in ("thumbnail", "spritesheet"):
        image = client.get(f"/openai/v1/videos/{video_id}/content", params={"variant": variant})
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.content[:3] == b"\xff\xd8\xff"
        assert httpx.get(done["output"][f"{variant}_url"]).status_code == 200  # type: ignore[index]


def test_n_is_emulated_by_parallel_runs(client: httpx.Client) -> None:
    created = client.post(
        "/v1/videos/generations", json={"prompt": "fireflies in a forest", "n": 2, "seconds": 1, "size": "256x144"}
    )
    assert created.status_code == 202, created.text
    done = wait_until_finished(client, created.json()["id"])
    results = done["output"]["results"]  # type: ignore[index]
    assert [r["index"] for r in results] == [0, 1]
    first = httpx.get(results[0]["url"]).content
    second = httpx.get(results[1]["url"]).content
    assert first != second  # two runs with different seeds, not one file twice
    report = {item["param"]: item for item in done["metadata"]["normalization"]}  # type: ignore[index]
    assert report["n"]["behaviour"] == "emulated"


def test_list_retrieve_delete(client: httpx.Client) -> None:
    ids = [
        client.post("/v1/videos", json={"prompt": f"list test {i}", "seconds": 1, "size": "128x128"}).json()["id"]
        for i in range(3)
    ]
    page = client.get("/v1/videos", params={"limit": 2}).json()
    assert page["object"] == "list" and len(page["data"]) == 2 and page["has_more"] is True
    assert [v["id"] for v in page["data"]] == [ids[2], ids[1]]
    rest = client.get("/v1/videos", params={"limit": 2, "after": page["last_id"]}).json()
    assert rest["data"][0]["id"] == ids[0]
    for video_id in ids:
        wait_until_finished(client, video_id)
    deleted = client.delete(f"/v1/videos/{ids[0]}")
    assert deleted.json() == {"id": ids[0], "object": "video.deleted", "deleted": True}
    gone = client.get(f"/v1/videos/{ids[0]}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "video_not_found"


def test_signed_links_refuse_tampering(client: httpx.Client) -> None:
    done = wait_until_finished(
        client, client.post("/v1/videos", json={"prompt": "sign me", "seconds": 1, "size": "128x128"}).json()["id"]
    )
    url = done["output"]["url"]  # type: ignore[index]
    assert httpx.get(url).status_code == 200
    tampered = url.replace("/0.mp4", "/0.thumbnail.jpg")
    response = httpx.get(tampered)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_remix_makes_a_new_video_from_a_completed_one(client: httpx.Client, tmp_path: Path) -> None:
    source = wait_until_finished(
        client, client.post("/v1/videos", json={"prompt": "city lights", "seconds": 2, "size": "320x180"}).json()["id"]
    )
    remix = client.post(f"/v1/videos/{source['id']}/remix", json={"prompt": "make it vintage sepia"})
    assert remix.status_code == 202, remix.text
    assert remix.json()["remixed_from_video_id"] == source["id"]
    done = wait_until_finished(client, remix.json()["id"])
    assert done["status"] == "completed", done
    assert_mp4(download(done["output"]["url"], tmp_path / "remix.mp4"), seconds=2, size="320x180")  # type: ignore[index]


def test_dry_run_estimates_without_creating(client: httpx.Client) -> None:
    before = client.get("/v1/videos", params={"limit": 100}).json()["data"]
    response = client.post("/v1/videos?dryRun=true", json={"prompt": "estimate", "seconds": 4})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "video.estimate" and body["estimated"] is True and body["cost_estimate"] == 0
    assert body["size"] == "1280x720" and body["seconds"] == "4"
    assert client.get("/v1/videos", params={"limit": 100}).json()["data"] == before


def test_models_lists_the_catalog_with_capabilities(client: httpx.Client) -> None:
    models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert models["reelay-local"]["available"] is True and models["reelay-local"]["kind"] == "procedural"
    assert models["grok-imagine-video"]["available"] is False
    assert "1K" in str(models["grok-imagine-video"]["capabilities"])


def test_a_video_file_under_input_reference_is_video_to_video(client: httpx.Client, media_dir: Path) -> None:
    """vLLM-Omni's multipart form puts the v2v input under input_reference; Reelay accepts it too."""
    with open(media_dir / "input.mp4", "rb") as handle:
        created = client.post(
            "/v1/videos",
            data={"prompt": "make it black and white"},
            files={"input_reference": ("input.mp4", handle, "video/mp4")},
        )
    assert created.status_code == 202, created.text
    done = wait_until_finished(client, created.json()["id"])
    assert done["status"] == "completed", done
    assert (done["size"], done["seconds"]) == ("320x240", "2")  # the input video's shape and length
