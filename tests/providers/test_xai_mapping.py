"""xAI request/response mapping, pure: no network, no server."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from reelay.errors import UpstreamError
from reelay.providers.base import ProviderJob
from reelay.providers.xai import build_request, parse_created, parse_status, xai_operation


def job(**overrides: Any) -> ProviderJob:
    values: dict[str, Any] = dict(
        video_id="video_1",
        index=0,
        model="grok-imagine-video",
        mode="t2v",
        prompt="a fox",
        width=1365,
        height=768,
        seconds=6.0,
        seed=None,
        aspect_ratio="16:9",
        resolution="720p",
    )
    values.update(overrides)
    return ProviderJob(**values)


def test_text_to_video_body() -> None:
    path, body = build_request(job())
    assert path == "/v1/videos/generations"
    assert body == {
        "model": "grok-imagine-video",
        "prompt": "a fox",
        "duration": 6,
        "aspect_ratio": "16:9",
        "resolution": "720p",
    }


def test_image_to_video_sends_the_image_as_a_data_uri(provider_media: Path) -> None:
    image = provider_media / "reference.png"
    _, body = build_request(job(mode="i2v", image_path=image))
    url = body["image"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == image.read_bytes()


@pytest.mark.parametrize("overrides", [{"mode": "v2v"}, {"operation": "edit"}])
def test_edit_goes_to_edits_without_geometry_or_duration(provider_media: Path, overrides: dict[str, Any]) -> None:
    path, body = build_request(job(video_path=provider_media / "input.mp4", **overrides))
    assert path == "/v1/videos/edits"
    assert set(body) == {"model", "prompt", "video"}
    assert body["video"]["url"].startswith("data:video/mp4;base64,")


def test_extend_sends_the_added_seconds(provider_media: Path) -> None:
    path, body = build_request(job(operation="extend", seconds=5.0, video_path=provider_media / "input.mp4"))
    assert path == "/v1/videos/extensions"
    assert body["duration"] == 5 and "aspect_ratio" not in body and "resolution" not in body


@pytest.mark.parametrize(("operation", "seconds"), [("extend", 1.0), ("extend", 11.0), ("generate", 16.0)])
def test_durations_outside_the_documented_range_are_refused(
    provider_media: Path, operation: str, seconds: float
) -> None:
    with pytest.raises(UpstreamError) as caught:
        build_request(job(operation=operation, seconds=seconds, video_path=provider_media / "input.mp4"))
    assert caught.value.code == "unsupported_parameter" and not caught.value.retryable


def test_missing_inputs_are_final_errors() -> None:
    with pytest.raises(UpstreamError, match="input image"):
        build_request(job(mode="i2v"))
    with pytest.raises(UpstreamError, match="input video"):
        build_request(job(mode="v2v"))


def test_passthrough_is_merged_untouched() -> None:
    _, body = build_request(job(passthrough={"user": "u-1", "output": {"upload_url": "https://x"}}))
    assert body["user"] == "u-1" and body["output"] == {"upload_url": "https://x"}


def test_operation_choice() -> None:
    assert xai_operation(job()) == "generate"
    assert xai_operation(job(mode="v2v")) == "edit"
    assert xai_operation(job(mode="v2v", operation="extend")) == "extend"


def test_created_needs_a_request_id() -> None:
    assert parse_created({"request_id": "abc"}) == "abc"
    with pytest.raises(UpstreamError) as caught:
        parse_created({"id": "abc"})
    assert caught.value.retryable and caught.value.code == "upstream_malformed"


def test_pending_is_running_with_progress() -> None:
    result = parse_status({"status": "pending", "progress": 45}, 5.0)
    assert (result.state, result.progress, result.poll_after) == ("running", 0.45, 5.0)
    assert parse_status({"status": "pending"}, 5.0).progress is None


def test_done_gives_the_output_url() -> None:
    result = parse_status(
        {"status": "done", "video": {"url": "https://vidgen.x.ai/a.mp4", "respect_moderation": True}}, 5.0
    )
    assert result.state == "succeeded" and result.output_urls == ("https://vidgen.x.ai/a.mp4",)
    assert parse_status({"video": {"url": "https://v/a.mp4"}}, 5.0).state == "succeeded"  # no status + url = done


def test_moderation_refusal_is_a_final_content_policy_error() -> None:
    result = parse_status({"status": "done", "video": {"url": "", "respect_moderation": False}}, 5.0)
    assert result.state == "failed" and result.error is not None
    assert result.error.code == "content_policy_violation" and not result.error.retryable
    assert "content policy" in result.error.message


def test_expired_and_failed() -> None:
    expired = parse_status({"status": "expired"}, 5.0).error
    assert expired is not None and expired.code == "upstream_expired" and not expired.retryable
    transient = parse_status({"status": "failed", "error": {"code": "internal_error", "message": "boom"}}, 5.0).error
    assert transient is not None and transient.retryable and transient.code == "upstream_failed"
    assert "internal_error" in transient.message and "boom" in transient.message
    policy = parse_status({"status": "failed", "error": {"code": "safety_violation", "message": "no"}}, 5.0).error
    assert policy is not None and policy.code == "content_policy_violation" and not policy.retryable
    other = parse_status({"status": "failed", "error": {"code": "invalid_argument", "message": "bad"}}, 5.0).error
    assert other is not None and other.code == "invalid_argument" and not other.retryable


def test_done_without_url_is_malformed() -> None:
    error = parse_status({"status": "done", "video": {"respect_moderation": True}}, 5.0).error
    assert error is not None and error.code == "upstream_malformed"


def test_the_reported_cost_is_read_from_usage_ticks() -> None:
    done = {"status": "done", "video": {"url": "https://cdn.example/v.mp4"}, "usage": {"cost_in_usd_ticks": 500000000}}
    assert parse_status(done, 5.0).reported_cost_usd == 0.05  # 1 USD = 1e10 ticks
    for usage in (None, {}, {"cost_in_usd_ticks": "5"}, {"cost_in_usd_ticks": -1}, {"cost_in_usd_ticks": True}):
        body = {**done, "usage": usage}
        assert parse_status(body, 5.0).reported_cost_usd is None, usage
