"""Bad input gets a clear 4xx in the OpenAI error shape, never a 500 or a traceback."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from reelay.api.app import create_app
from reelay.config import Settings

SMALL_LIMIT = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("bad-input"),
        max_upload_bytes=SMALL_LIMIT,
        max_image_bytes=1024 * 1024,
        max_video_bytes=2 * 1024 * 1024,
        local_render_processes=1,
        workers=1,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        yield http


def assert_error(response: Any, status: int, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["message"] and isinstance(error["message"], str)
    assert "Traceback" not in error["message"]
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    return dict(error)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": 42}, "prompt"),
        ({"prompt": "x" * 4001}, "prompt"),
        ({"prompt": "ok", "size": "banana"}, "size"),
        ({"prompt": "ok", "size": "0x720"}, "size"),
        ({"prompt": "ok", "size": 1280}, "size"),
        ({"prompt": "ok", "n": 0}, "n"),
        ({"prompt": "ok", "n": 5}, "n"),
        ({"prompt": "ok", "n": "many"}, "n"),
        ({"prompt": "ok", "n": 1.5}, "n"),
        ({"prompt": "ok", "seconds": -3}, "seconds"),
        ({"prompt": "ok", "seconds": "soon"}, "seconds"),
        ({"prompt": "ok", "duration": "NaN"}, "duration"),
        ({"prompt": "ok", "seconds": 4, "duration": 8}, "seconds"),
        ({"prompt": "ok", "aspect_ratio": "wide"}, "aspect_ratio"),
        ({"prompt": "ok", "resolution": "huge"}, "resolution"),
        ({"prompt": "ok", "seed": -1}, "seed"),
        ({"prompt": "ok", "input_reference": {"file_id": "file_1"}}, "input_reference"),
        ({"prompt": "ok", "input_reference": "ftp://example.com/a.png"}, "input_reference"),
        ({"prompt": "ok", "input_reference": 7}, "input_reference"),
        ({"prompt": "ok", "input_video": ["x"]}, "input_video"),
    ],
)
def test_invalid_create_bodies(client: TestClient, body: dict[str, Any], param: str) -> None:
    assert_error(client.post("/v1/videos", json=body), 400, param=param)


def test_unknown_model(client: TestClient) -> None:
    error = assert_error(client.post("/v1/videos", json={"prompt": "a", "model": "nope"}), 404, "model_not_found")
    assert "reelay-local" in error["message"]  # says what exists


def test_model_without_a_configured_provider_says_what_to_do(client: TestClient) -> None:
    response = client.post("/v1/videos", json={"prompt": "a", "model": "grok-imagine-video"})
    error = assert_error(response, 400, "provider_not_configured", "model")
    assert "--demo" in error["message"]


def test_malformed_json_and_wrong_shapes(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    assert_error(client.post("/v1/videos", content=b"{not json", headers=headers), 400, "invalid_request")
    assert_error(client.post("/v1/videos", content=b"[1, 2]", headers=headers), 400)
    assert_error(client.post("/v1/videos", content=b"", headers=headers), 400)
    assert_error(client.post("/v1/videos", content=b"\xff\xfe", headers=headers), 400)
    assert_error(client.post("/v1/videos", content=b"<xml/>", headers={"content-type": "application/xml"}), 415)


def test_undecodable_image(client: TestClient, media_dir: Path) -> None:
    garbage = "data:image/png;base64," + base64.b64encode(b"not an image at all").decode()
    assert_error(
        client.post("/v1/videos", json={"prompt": "a", "input_reference": {"image_url": garbage}}),
        400,
        "invalid_media",
        "input_reference",
    )
    with open(media_dir / "not-an-image.png", "rb") as handle:
        response = client.post(
            "/v1/videos", data={"prompt": "a"}, files={"input_reference[]": ("x.png", handle, "image/png")}
        )
    assert_error(response, 400, "invalid_media", "input_reference")


def test_a_video_that_is_not_a_video(client: TestClient, media_dir: Path) -> None:
    with open(media_dir / "not-a-video.mp4", "rb") as handle:
        response = client.post(
            "/v1/videos", data={"prompt": "a"}, files={"input_video": ("x.mp4", handle, "video/mp4")}
        )
    assert_error(response, 400, "invalid_media", "input_video")


def test_malformed_data_uri(client: TestClient) -> None:
    response = client.post("/v1/videos", json={"prompt": "a", "input_reference": {"image_url": "data:image/png"}})
    assert_error(response, 400, param="input_reference")


def test_oversized_uploads_get_413(client: TestClient) -> None:
    big = b"\0" * (SMALL_LIMIT + 1024)
    response = client.post("/v1/videos", data={"prompt": "a"}, files={"input_video": ("big.mp4", big, "video/mp4")})
    assert_error(response, 413, "payload_too_large")
    # Under the request limit but over the per-image limit.
    image = b"\0" * (1024 * 1024 + 10)
    response = client.post("/v1/videos", data={"prompt": "a"}, files={"input_reference": ("a.png", image, "image/png")})
    assert_error(response, 413, "payload_too_large", "input_reference")
    # A data URI over the image limit.
    uri = "data:image/png;base64," + base64.b64encode(b"\0" * (1024 * 1024 + 10)).decode()
    response = client.post("/v1/videos", json={"prompt": "a", "input_reference": {"image_url": uri}})
    assert_error(response, 413, "payload_too_large")


def test_unknown_video_ids(client: TestClient) -> None:
    assert_error(client.get("/v1/videos/video_doesnotexist"), 404, "video_not_found")
    assert_error(client.delete("/v1/videos/video_doesnotexist"), 404, "video_not_found")
    assert_error(client.get("/v1/videos/video_doesnotexist/content"), 404, "video_not_found")
    assert_error(client.post("/v1/videos/video_doesnotexist/remix", json={"prompt": "x"}), 404)
    assert client.get("/v1/videos/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)
    assert_error(client.get("/v1/videos/" + "a" * 65), 400)
    assert_error(client.get("/v1/files/videos/x/0.mp4", params={"expires": 1, "signature": "0" * 64}), 403)


def test_content_of_an_unfinished_video_is_409(client: TestClient) -> None:
    created = client.post("/v1/videos", json={"prompt": "long one", "seconds": 15, "size": "1280x720"})
    assert created.status_code == 202
    video_id = created.json()["id"]
    error = assert_error(client.get(f"/v1/videos/{video_id}/content"), 409, "video_not_ready")
    assert "GET /v1/videos/" in error["message"]
    assert_error(client.post(f"/v1/videos/{video_id}/remix", json={"prompt": "x"}), 409, "video_not_ready")
    client.delete(f"/v1/videos/{video_id}")  # cancels it: the worker is free for the next tests


def test_bad_list_and_content_parameters(client: TestClient) -> None:
    assert_error(client.get("/v1/videos", params={"limit": 0}), 400, param="limit")
    assert_error(client.get("/v1/videos", params={"limit": 101}), 400, param="limit")
    assert_error(client.get("/v1/videos", params={"order": "sideways"}), 400, param="order")
    assert_error(client.get("/v1/videos/video_x/content", params={"variant": "gif"}), 400, param="variant")


def test_unknown_routes_and_methods_keep_the_shape(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/v1/videos"), 405, "method_not_allowed")


def test_unknown_parameters_pass_through(client: TestClient) -> None:
    response = client.post("/v1/videos?dryRun=true", json={"prompt": "a", "style": "noir", "guidance_scale": 7})
    assert response.status_code == 200, response.text
    report = {item["param"]: item for item in response.json()["normalization"]}
    assert report["style"]["behaviour"] == "passthrough" and report["style"]["value"] == "noir"
    assert report["guidance_scale"]["value"] == 7


@pytest.mark.parametrize(
    "failure",
    [
        OperationalError("SELECT …", {}, Exception("server closed the connection unexpectedly")),
        PoolTimeout("QueuePool limit of size 10 overflow 2 reached"),
        psycopg.OperationalError("connection failed: Connection refused"),  # the polling pool's own
        psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec"),
    ],
)
def test_an_unavailable_database_is_a_503_to_retry_not_a_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    async def down(*_args: Any, **_kwargs: Any) -> None:
        raise failure

    monkeypatch.setattr(client.app.state.ctx.service.store, "get", down)  # type: ignore[attr-defined]
    response = client.get("/v1/videos/video_0123456789abcdef0123456789abcdef")
    assert_error(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "1"
