"""Hostile input gets a clear 4xx in the OpenAI error shape: never a 500, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.keyed import bearer, create_key, reelay

LIMIT = 3 * 1024 * 1024
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with reelay(tmp_path_factory.mktemp("hostile"), max_upload_bytes=LIMIT, max_image_bytes=1024 * 1024) as http:
        http.headers.update(bearer(create_key(http, admin=True)))
        yield http


def assert_4xx(response: Any, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"} and error["message"]
    assert "Traceback" not in error["message"]
    return dict(error)


@pytest.mark.parametrize(
    "body",
    [
        b'{"prompt": ',
        b'{"prompt": "x",}',
        b"[1, 2]",
        b'"just a string"',
        b"\xff\xfe{}",
        b"{" * 5000 + b"}" * 5000,
        b"  ",
    ],
)
def test_malformed_json(client: TestClient, body: bytes) -> None:
    assert_4xx(client.post("/v1/videos", content=body, headers=JSON), 400)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prompt", 123),
        ("prompt", ["a"]),
        ("seconds", "abc"),
        ("seconds", {"a": 1}),
        ("n", True),
        ("n", -3),
        ("model", ["x"]),
        ("size", 640),
        ("size", "0x0"),
        ("size", "99999999x99999999"),
        ("seed", {"x": 1}),
        ("input_reference", 12),
        ("input_video", [1]),
        ("webhook_url", {"url": "x"}),
    ],
)
def test_wrong_types(client: TestClient, field: str, value: Any) -> None:
    assert_4xx(client.post("/v1/videos", json={"prompt": "a fox", field: value}))


def test_huge_prompt_and_huge_body(client: TestClient) -> None:
    assert assert_4xx(client.post("/v1/videos", json={"prompt": "x" * 1_000_000}), 400)["param"] == "prompt"
    too_big = client.post("/v1/videos", content=b'{"prompt": "' + b"x" * (LIMIT + 10) + b'"}', headers=JSON)
    assert assert_4xx(too_big, 413)["code"] == "payload_too_large"


def test_huge_and_truncated_multipart(client: TestClient) -> None:
    big = client.post(
        "/v1/videos",
        data={"prompt": "x"},
        files={"input_reference": ("a.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024), "image/png")},
    )
    assert_4xx(big, 413)
    boundary = "reelayboundary"
    truncated = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhello\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="input_reference"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n partial"
    ).encode("latin-1")
    response = client.post(
        "/v1/videos", content=truncated, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert_4xx(response, 400)
    no_boundary = client.post("/v1/videos", content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    assert_4xx(no_boundary, 400)
    many = client.post("/v1/videos", data={f"f{i}": "x" for i in range(500)})
    assert_4xx(many, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/videos/..%2F..%2Fetc%2Fpasswd",
        "/v1/videos/video_..%2F..%2Freelay.db/content",
        "/v1/videos/%2e%2e/content",
        "/v1/videos/video_1%00.mp4",
        "/v1/videos/" + "a" * 5000,
        "/v1/videos/video_%E2%80%AEabc",  # RTL override inside an id
        "/v1/videos?after=..%2F..",
        "/v1/videos?after=%00",
        "/v1/files/..%2F..%2Freelay.db?expires=99999999999&signature=" + "0" * 64,
        "/v1/files/videos/x/0.mp4?expires=99999999999&signature=" + "%C3%A9" * 32,
        "/v1/models/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_path_traversal_and_odd_ids(client: TestClient, path: str) -> None:
    assert_4xx(client.get(path))


@pytest.mark.parametrize(
    "body",
    [
        b'{"prompt": "a\\u0000b"}',
        b'{"prompt": "a\\ud800b"}',
        b'{"prompt": "x", "model": "\\udfff"}',
        b'{"\\ud800": 1, "prompt": "x"}',
        b'{"prompt": "x", "extra": {"k": ["\\u0000"]}}',
        b'{"prompt": "x", "webhook_url": "https://a\\ud800.example.com/"}',
        b'{"prompt": "x", "model": "reelay\\u202elocal"}',
    ],
)
def test_unicode_edge_cases(client: TestClient, body: bytes) -> None:
    assert_4xx(client.post("/v1/videos", content=body, headers=JSON), None)


def test_unicode_in_forms_and_headers(client: TestClient) -> None:
    assert_4xx(client.post("/v1/videos", data={"prompt": "a\x00b"}), 400)
    assert_4xx(
        client.post("/v1/videos", json={"prompt": "x"}, headers={"Idempotency-Key": "\u202eabc".encode()}),
        400,
    )
    assert client.post("/v1/videos", json={"prompt": "\u202eright to left \u05e9\u05dc\u05d5\u05dd"}).status_code == 202
