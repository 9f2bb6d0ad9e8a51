"""Fallback, circuit breaking, poll backoff and the silence deadline, through the real app and worker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.errors import UpstreamError
from reelay.procpool import ProcessPool
from tests.media_helpers import make_video
from tests.scripted_provider import ScriptedProvider

ROUTES = """
[models."grok-imagine-video"]
routes = [[{ provider = "first" }], [{ provider = "second" }]]
[models."grok-imagine-video-1.5"]
routes = [[{ provider = "solo" }]]
[circuit_breaker]
failure_threshold = 2
cooldown_seconds = 600
"""


def unavailable() -> UpstreamError:
    return UpstreamError("first answered HTTP 503", retryable=True, code="upstream_unavailable")


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("scripted") / "out.mp4", seconds=1.0, width=320, height=240)


def app_with(tmp_path: Path, providers: dict[str, ScriptedProvider], **settings: Any) -> TestClient:
    config = tmp_path / "reelay.toml"
    config.write_text(ROUTES)

    def factory(_pool: ProcessPool) -> dict[str, ScriptedProvider]:
        return providers

    app = create_app(
        Settings(
            data_dir=tmp_path / "data",
            config_file=config,
            local_render_processes=1,
            retry_backoff_seconds=0.05,
            **settings,
        ),
        extra_providers=factory,  # type: ignore[arg-type]
    )
    return TestClient(app, raise_server_exceptions=False)


def finish(client: TestClient, video_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/videos/{video_id}").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} did not finish")


def create(client: TestClient, model: str = "grok-imagine-video") -> str:
    response = client.post("/v1/videos", json={"model": model, "prompt": "a fox", "seconds": 2})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_falls_back_when_submission_fails_and_breaks_the_circuit(tmp_path: Path, video: Path) -> None:
    first = ScriptedProvider("first", video, always_fail_submit=unavailable())
    second = ScriptedProvider("second", video)
    with app_with(tmp_path, {"first": first, "second": second}) as client:
        for _ in range(2):
            done = finish(client, create(client))
            assert done["status"] == "completed", done
            assert done["metadata"]["provider"] == "second"
            assert done["metadata"]["executed_model"] == "grok-imagine-video"
        assert first.submit_attempts == 2
        # Two failures opened first's circuit: the next jobs go straight to second.
        for _ in range(3):
            assert finish(client, create(client))["metadata"]["provider"] == "second"
        assert first.submit_attempts == 2
        assert len(second.submissions) == 5


def test_every_target_failing_is_all_providers_exhausted(tmp_path: Path, video: Path) -> None:
    rejected = UpstreamError("bad request", retryable=False, code="upstream_rejected")
    first = ScriptedProvider("first", video, always_fail_submit=rejected)
    second = ScriptedProvider("second", video, always_fail_submit=rejected)
    with app_with(tmp_path, {"first": first, "second": second}) as client:
        done = finish(client, create(client))
    assert done["status"] == "failed" and done["error"]["code"] == "all_providers_exhausted"
    assert "first" in done["error"]["message"] and "second" in done["error"]["message"]


def test_a_single_target_keeps_the_providers_own_error(tmp_path: Path, video: Path) -> None:
    auth = UpstreamError("solo answered HTTP 401; check the provider's API key", code="upstream_auth_failed")
    solo = ScriptedProvider("solo", video, always_fail_submit=auth)
    with app_with(tmp_path, {"solo": solo}) as client:
        done = finish(client, create(client, "grok-imagine-video-1.5"))
    assert done["status"] == "failed" and done["error"]["code"] == "upstream_auth_failed"


def test_a_content_policy_refusal_is_not_sent_elsewhere(tmp_path: Path, video: Path) -> None:
    refusal = UpstreamError("refused by moderation", code="content_policy_violation")
    first = ScriptedProvider("first", video, always_fail_submit=refusal)
    second = ScriptedProvider("second", video)
    with app_with(tmp_path, {"first": first, "second": second}) as client:
        done = finish(client, create(client))
    assert done["error"]["code"] == "content_policy_violation"
    assert second.submissions == []


def test_transient_poll_errors_do_not_resubmit(tmp_path: Path, video: Path) -> None:
    """The waits themselves (Retry-After, doubling) are checked on the wire in test_retry_timing.py."""
    limited = UpstreamError("429", retryable=True, code="upstream_rate_limited", retry_after=0.1)
    solo = ScriptedProvider("solo", video, poll_errors=[limited, unavailable(), limited])
    with app_with(tmp_path, {"solo": solo}) as client:
        done = finish(client, create(client, "grok-imagine-video-1.5"))
    assert done["status"] == "completed", done
    assert len(solo.submissions) == 1


def test_a_silent_provider_ends_upstream_timeout(tmp_path: Path, video: Path) -> None:
    solo = ScriptedProvider("solo", video, silent=True)
    with app_with(tmp_path, {"solo": solo}, provider_deadline_seconds=1.0) as client:
        done = finish(client, create(client, "grok-imagine-video-1.5"))
    assert done["status"] == "failed" and done["error"]["code"] == "upstream_timeout"
    assert solo.cancelled == ["solo_1"]


def test_the_provider_header_names_who_serves(tmp_path: Path, video: Path) -> None:
    solo = ScriptedProvider("solo", video)
    with app_with(tmp_path, {"solo": solo}) as client:
        response = client.post("/v1/videos", json={"model": "grok-imagine-video-1.5", "prompt": "a", "seconds": 1})
        assert response.headers["X-Reelay-Provider"] == "solo"
        assert client.get(f"/v1/videos/{response.json()['id']}").headers["X-Reelay-Provider"] == "solo"


def test_demo_mode_serves_catalog_models_locally_and_says_so(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "demo", demo=True, local_render_processes=1))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/videos", json={"model": "grok-imagine-video", "prompt": "demo", "aspect_ratio": "16:9", "seconds": 1}
        )
        assert response.status_code == 202, response.text
        # The size the local engine really renders (the card's 1365x768 fitted to 1280x720), so the
        # report, the job and the result agree (issue 17).
        assert response.json()["size"] == "1280x720"
        done = finish(client, response.json()["id"], timeout=60)
    assert done["status"] == "completed", done
    assert done["metadata"]["provider"] == "local" and done["metadata"]["executed_model"] == "reelay-local"
    assert done["output"]["size"] == "1280x720"  # what the local engine really rendered (fitted to 720p)


def test_a_lost_submit_answer_is_retried_under_the_same_key_and_a_failed_generation_gets_a_new_one(
    tmp_path: Path, video: Path
) -> None:
    """The key is stored before the submit: an upstream that honours Idempotency-Key sees a retry of an
    answer it sent (but we never read) as the same generation; a generation that failed is a new one."""
    solo = ScriptedProvider("solo", video, submit_errors=[unavailable(), unavailable()], failed_generations=1)
    with app_with(tmp_path, {"solo": solo}) as client:
        body = finish(client, create(client, "grok-imagine-video-1.5"))
    assert body["status"] == "completed", body
    first, retry1, retry2, after_failure = solo.submit_keys
    assert first is not None and first.startswith("reelay-video_")
    assert first == retry1 == retry2  # the two lost answers: the same key again
    assert after_failure is not None and after_failure != first  # the failed generation: a fresh key
