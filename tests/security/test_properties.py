"""Property-based: generated create, edit and extension bodies (JSON and multipart) and generated
media (extreme shapes, truncated containers, wrong magic bytes) only ever get 2xx or 4xx in the
documented error shape. Example counts are modest so the suite stays fast; the seeds vary per run."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.security.keyed import bearer, create_key, reelay

FIELDS = [
    "prompt", "seconds", "duration", "n", "seed", "size", "model", "aspect_ratio", "resolution",
    "input_reference", "input_video", "video", "webhook_url", "reference_mode", "extra",
]  # fmt: skip
PATHS = ["/v1/videos", "/v1/videos?dryRun=true", "/v1/videos/edits", "/v1/videos/extensions"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
huge_numbers = st.integers(min_value=10**60, max_value=10**90).map(str)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with reelay(tmp_path_factory.mktemp("props")) as http:
        http.headers.update(bearer(create_key(http, admin=True)))
        yield http


def assert_not_5xx(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "code", "param"} and error["message"], error


@SETTINGS
@given(path=st.sampled_from(PATHS), body=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_generated_json_bodies(client: TestClient, path: str, body: dict[str, Any]) -> None:
    assert_not_5xx(client.post(path, content=json.dumps(body), headers={"content-type": "application/json"}))


@SETTINGS
@given(
    path=st.sampled_from(PATHS),
    fields=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=60) | huge_numbers, min_size=1, max_size=6),
)
def test_generated_multipart_bodies(client: TestClient, path: str, fields: dict[str, str]) -> None:
    assert_not_5xx(client.post(path, data=fields))


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 200)).save(out, format="PNG")
    return out.getvalue()


shapes = st.tuples(st.integers(1, 4000), st.integers(1, 4000)).filter(lambda wh: wh[0] * wh[1] <= 4_000_000)
media = st.one_of(
    shapes.map(lambda wh: ("image/png", _png(*wh))),
    st.tuples(shapes, st.floats(0.0, 0.95)).map(lambda t: ("image/png", _png(*t[0])[: int(len(_png(*t[0])) * t[1])])),
    st.binary(max_size=2000).map(lambda b: ("image/png", b"\x89PNG\r\n\x1a\n" + b)),
    st.binary(max_size=2000).map(lambda b: ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b)),
    st.binary(max_size=500).map(lambda b: ("image/jpeg", b"\xff\xd8\xff" + b)),
)


@SETTINGS
@given(
    item=media, field=st.sampled_from(["input_reference", "input_video"]), size=st.sampled_from(["640x360", "360x640"])
)
def test_generated_media(client: TestClient, item: tuple[str, bytes], field: str, size: str) -> None:
    content_type, data = item
    response = client.post(
        "/v1/videos", data={"prompt": "slow push in", "seconds": "1", "size": size},
        files={field: ("upload.bin", data, content_type)},
    )  # fmt: skip
    assert_not_5xx(response)
