"""The audit's smaller findings: /metrics access is a setting, every route is under /openai/v1 too,
webhook requests carry one User-Agent, and media errors name the upload, not a temporary file."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from reelay.security.fetch import FetchPolicy, _build_request, _CheckedURL
from tests.security.keyed import bearer, create_key, reelay


@pytest.mark.parametrize(
    ("access", "anonymous", "user", "admin"),
    [("admin", 401, 403, 200), ("open", 200, 200, 200), ("off", 404, 404, 404)],
)
def test_metrics_access_setting(tmp_path: Path, access: str, anonymous: int, user: int, admin: int) -> None:
    with reelay(tmp_path, metrics_access=access) as client:
        admin_key = create_key(client, admin=True)
        user_key = create_key(client, admin_key)
        assert client.get("/metrics").status_code == anonymous
        assert client.get("/metrics", headers=bearer(user_key)).status_code == user
        assert client.get("/metrics", headers=bearer(admin_key)).status_code == admin


def test_metrics_are_open_while_no_key_exists(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        assert client.get("/metrics").status_code == 200


def test_admin_and_files_routes_are_served_under_openai_v1_too(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        admin_key = create_key(client, admin=True)
        listed = client.get("/openai/v1/admin/keys", headers=bearer(admin_key))
        assert listed.status_code == 200 and listed.json()["data"], listed.text
        missing = client.get("/openai/v1/files/videos/nothing.mp4", headers=bearer(admin_key))
        same = client.get("/v1/files/videos/nothing.mp4", headers=bearer(admin_key))
        assert (missing.status_code, missing.json()) == (same.status_code, same.json())  # the route, not a 404


def test_a_webhook_request_carries_one_user_agent() -> None:
    checked = _CheckedURL(
        url=httpx.URL("https://hooks.example/in"), host="hooks.example", addresses=(), is_ip_literal=False
    )
    import ipaddress

    request = _build_request(
        checked, ipaddress.ip_address("93.184.216.34"), FetchPolicy(), headers={"user-agent": "Reelay-webhooks/1"}
    )
    assert request.headers.get_list("user-agent") == ["Reelay-webhooks/1"]


def test_a_media_error_names_the_uploaded_file(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        response = client.post(
            "/v1/videos",
            data={"prompt": "x"},
            files={"input_video": ("holiday.mp4", io.BytesIO(b"not a video at all" * 20), "video/mp4")},
        )
        assert response.status_code == 400, response.text
        message = response.json()["error"]["message"]
        assert "'holiday.mp4'" in message and ".input" not in message, message


def test_json_and_multipart_seconds_replay_under_one_idempotency_key(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        key = {"Idempotency-Key": "same-seconds"}
        first = client.post("/v1/videos", json={"prompt": "idem a", "seconds": 1}, headers=key)
        form = client.post("/v1/videos", data={"prompt": "idem a", "seconds": "1"}, headers=key)
        text = client.post("/v1/videos", json={"prompt": "idem a", "seconds": "1.0"}, headers=key)
        assert (first.status_code, form.status_code, text.status_code) == (202, 200, 200), form.text
        assert first.json()["id"] == form.json()["id"] == text.json()["id"]
        other = client.post("/v1/videos", data={"prompt": "idem a", "seconds": "2"}, headers=key)
        assert other.status_code == 409


def test_a_data_uri_over_the_limit_is_413_naming_the_field(tmp_path: Path) -> None:
    import base64

    with reelay(tmp_path, max_image_bytes=1024 * 1024) as client:
        uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024)).decode()
        response = client.post("/v1/videos", json={"prompt": "x", "input_reference": {"image_url": uri}})
        assert response.status_code == 413, response.text
        assert response.json()["error"]["param"] == "input_reference"
