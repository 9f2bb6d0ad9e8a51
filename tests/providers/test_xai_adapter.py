"""The xAI adapter against the loopback fake: every failure mode ends in the right typed error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelay.errors import UpstreamError, UpstreamTimeout
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.xai import XAIProvider
from tests.media_helpers import probe
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.xai_fake import XAIFake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


@pytest.fixture
def provider(xai_server: tuple[XAIFake, LoopbackServer], xai_fake: XAIFake, client: httpx.AsyncClient) -> XAIProvider:
    _, server = xai_server
    return XAIProvider(api_key="test", base_url=server.url, client=client, poll_interval=0.01)


def job(**overrides: Any) -> ProviderJob:
    values: dict[str, Any] = dict(
        video_id="video_1",
        index=0,
        model="grok-imagine-video",
        mode="t2v",
        prompt="a fox",
        width=1365,
        height=768,
        seconds=4.0,
        seed=None,
        aspect_ratio="16:9",
        resolution="720p",
    )
    values.update(overrides)
    return ProviderJob(**values)


async def run_to_end(provider: XAIProvider, upstream_id: str) -> PollResult:
    for _ in range(50):
        result = await provider.poll(upstream_id)
        if result.finished:
            return result
    raise AssertionError("never finished")


async def test_text_to_video_round_trip(provider: XAIProvider, xai_fake: XAIFake, tmp_path: Path) -> None:
    upstream_id = await provider.submit(job())
    first = await provider.poll(upstream_id)
    assert first.state == "running" and first.progress == 0.4
    result = await run_to_end(provider, upstream_id)
    assert result.state == "succeeded"
    await provider.fetch_output(upstream_id, result, tmp_path / "out.mp4")
    assert probe(tmp_path / "out.mp4")["video_codec"] == "h264"
    (create,) = xai_fake.creates()
    assert create.path == "/v1/videos/generations" and create.headers["authorization"] == "Bearer test"
    assert create.body == {
        "model": "grok-imagine-video",
        "prompt": "a fox",
        "duration": 4,
        "aspect_ratio": "16:9",
        "resolution": "720p",
    }


async def test_edit_and_extend_hit_their_endpoints(
    provider: XAIProvider, xai_fake: XAIFake, provider_media: Path
) -> None:
    video = provider_media / "input.mp4"
    for operation in ("edit", "extend"):
        upstream_id = await provider.submit(job(operation=operation, mode="v2v", video_path=video, seconds=3.0))
        assert (await run_to_end(provider, upstream_id)).state == "succeeded"
    edit, extend = xai_fake.creates()
    assert edit.path == "/v1/videos/edits" and set(edit.body) == {"model", "prompt", "video"}
    assert extend.path == "/v1/videos/extensions" and extend.body["duration"] == 3


async def test_image_to_video_is_accepted(provider: XAIProvider, xai_fake: XAIFake, provider_media: Path) -> None:
    upstream_id = await provider.submit(job(mode="i2v", image_path=provider_media / "reference.png"))
    assert (await run_to_end(provider, upstream_id)).state == "succeeded"
    assert xai_fake.creates()[0].body["image"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("fault", "code", "retryable"),
    [
        ({"status": 401}, "upstream_auth_failed", False),
        ({"status": 429, "headers": {"Retry-After": "7"}}, "upstream_rate_limited", True),
        ({"status": 500}, "upstream_unavailable", True),
        ({"status": 503}, "upstream_unavailable", True),
        ({"status": 200, "raw": "{not json"}, "upstream_malformed", True),
        ({"status": 400, "body": {"code": "invalid_argument", "error": "bad prompt"}}, "upstream_rejected", False),
    ],
)
async def test_submit_failures_are_typed(
    provider: XAIProvider, xai_fake: XAIFake, fault: dict[str, Any], code: str, retryable: bool
) -> None:
    xai_fake.fail_next(method="POST", path="/v1/videos", **fault)
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job())
    assert (caught.value.code, caught.value.retryable) == (code, retryable)
    if fault["status"] == 429:
        assert caught.value.retry_after == 7.0


async def test_wrong_key_is_an_auth_failure(
    xai_server: tuple[XAIFake, LoopbackServer], xai_fake: XAIFake, client: httpx.AsyncClient
) -> None:
    provider = XAIProvider(api_key="wrong", base_url=xai_server[1].url, client=client)
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job())
    assert caught.value.code == "upstream_auth_failed" and "API key" in caught.value.message


async def test_slow_answer_is_a_retryable_timeout(
    xai_server: tuple[XAIFake, LoopbackServer], xai_fake: XAIFake
) -> None:
    xai_fake.fail_next(method="POST", path="/v1/videos", status=None, delay=1.0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2), trust_env=False) as impatient:
        provider = XAIProvider(api_key="test", base_url=xai_server[1].url, client=impatient)
        with pytest.raises(UpstreamTimeout) as caught:
            await provider.submit(job())
    assert caught.value.retryable


async def test_poll_failures_are_typed(provider: XAIProvider, xai_fake: XAIFake) -> None:
    upstream_id = await provider.submit(job())
    xai_fake.fail_next(method="GET", path="/v1/videos/", status=503)
    with pytest.raises(UpstreamError) as caught:
        await provider.poll(upstream_id)
    assert caught.value.retryable
    with pytest.raises(UpstreamError) as unknown:
        await provider.poll("no-such-request")
    assert unknown.value.code == "upstream_rejected" and not unknown.value.retryable


@pytest.mark.parametrize(
    ("outcome", "code", "retryable"),
    [
        ("moderated", "content_policy_violation", False),
        ("expired", "upstream_expired", False),
        ("failed", "upstream_failed", True),
        ("no_url", "upstream_malformed", True),
    ],
)
async def test_unsuccessful_outcomes(
    provider: XAIProvider, xai_fake: XAIFake, outcome: Any, code: str, retryable: bool
) -> None:
    xai_fake.outcome = outcome
    result = await run_to_end(provider, await provider.submit(job()))
    assert result.state == "failed" and result.error is not None
    assert (result.error.code, result.error.retryable) == (code, retryable)


async def test_failed_with_a_policy_code_is_a_content_policy_violation(
    provider: XAIProvider, xai_fake: XAIFake
) -> None:
    xai_fake.outcome = "failed"
    xai_fake.failure = {"code": "safety_violation", "message": "blocked"}
    result = await run_to_end(provider, await provider.submit(job()))
    assert result.error is not None and result.error.code == "content_policy_violation"


async def test_expired_output_url(provider: XAIProvider, xai_fake: XAIFake, tmp_path: Path) -> None:
    upstream_id = await provider.submit(job())
    result = await run_to_end(provider, upstream_id)
    xai_fake.output_expired = True
    with pytest.raises(UpstreamError) as caught:
        await provider.fetch_output(upstream_id, result, tmp_path / "out.mp4")
    assert caught.value.code == "upstream_output_expired" and not caught.value.retryable


async def test_fake_refuses_what_xai_refuses(provider: XAIProvider, xai_fake: XAIFake, provider_media: Path) -> None:
    both = job(
        mode="i2v",
        image_path=provider_media / "reference.png",
        passthrough={"reference_images": [{"url": "https://example.com/a.png"}]},
    )
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(both)
    assert caught.value.code == "upstream_rejected" and "reference_images" in caught.value.message
    with pytest.raises(UpstreamError):
        await provider.submit(job(aspect_ratio="5:4"))


async def test_cancel_is_a_no_op(provider: XAIProvider, xai_fake: XAIFake) -> None:
    upstream_id = await provider.submit(job())
    before = len(xai_fake.seen)
    await provider.cancel(upstream_id)
    assert len(xai_fake.seen) == before
    assert provider.resumable is True
