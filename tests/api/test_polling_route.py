"""The polled ``GET /v1/videos/{id}`` is answered by the innermost middleware, ahead of FastAPI's route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.api.polling_route import PollingShortcut
from reelay.config import Settings
from tests.api.test_bad_input import assert_error


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("polling"), local_render_processes=1, workers=1)
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        yield http


def test_the_shortcut_is_the_innermost_middleware_for_both_prefixes(client: TestClient) -> None:
    innermost = client.app.user_middleware[-1]  # type: ignore[attr-defined]
    assert innermost.cls is PollingShortcut and innermost.kwargs["prefixes"] == ("/v1", "/openai/v1")


def test_retrieve_answers_the_same_under_both_prefixes(client: TestClient) -> None:
    created = client.post("/v1/videos", json={"prompt": "a fox", "seconds": 4}).json()
    plain = client.get(f"/v1/videos/{created['id']}")
    openai = client.get(f"/openai/v1/videos/{created['id']}")
    assert plain.status_code == openai.status_code == 200
    assert plain.json()["id"] == openai.json()["id"] == created["id"]
    assert plain.headers["x-reelay-provider"] == "local" and "x-request-id" in plain.headers
    client.delete(f"/v1/videos/{created['id']}")


def test_unknown_and_malformed_ids_keep_their_errors(client: TestClient) -> None:
    missing = assert_error(client.get("/v1/videos/video_doesnotexist"), 404, "video_not_found")
    assert missing["param"] == "video_id"
    malformed = assert_error(client.get("/v1/videos/bad.id"), 400, "invalid_request")  # the FastAPI route's 400
    assert malformed["param"] == "video_id"
    assert_error(client.get(f"/v1/videos/{'a' * 65}"), 400, "invalid_request")


def test_an_unexpected_error_is_the_usual_500_body(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(client.app.state.ctx.service.store, "get", broken)  # type: ignore[attr-defined]
    error = assert_error(client.get("/v1/videos/video_0123456789abcdef"), 500, "internal_error")
    assert "boom" not in error["message"]
