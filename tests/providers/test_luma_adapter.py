"""Luma's Dream Machine API: pure mapping, and the adapter against the loopback fake in every failure mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelay.errors import UpstreamError
from reelay.providers.base import ProviderJob
from reelay.providers.luma import LumaProvider, build_request, parse_generation
from tests.providers import remote_harness as h
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.luma_fake import LumaFake
from tests.providers.fakes.remote_fake import serve

CREATE = "/dream-machine/v1/generations"
POLL = "/dream-machine/v1/generations/"
OUTCOMES = [("failed", "upstream_failed", False), ("transient", "upstream_failed", True)]


def job(**overrides: Any) -> ProviderJob:
    return h.provider_job(**{"model": "ray-2", **overrides})


@pytest.fixture(scope="module")
def server(provider_media: Path) -> Iterator[tuple[LumaFake, LoopbackServer]]:
    fake = LumaFake(video=(provider_media / "output.mp4").read_bytes())
    for running in serve(fake.app()):
        yield fake, running


@pytest.fixture
def fake(server: tuple[LumaFake, LoopbackServer]) -> Iterator[LumaFake]:
    server[0].reset()
    yield server[0]
    server[0].reset()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


@pytest.fixture
def provider(server: tuple[LumaFake, LoopbackServer], fake: LumaFake, client: httpx.AsyncClient) -> LumaProvider:
    return LumaProvider(api_key="test", base_url=server[1].url, client=client, poll_interval=0.01)


# -- pure mapping ------------------------------------------------------------------------------------


def test_text_to_video_body() -> None:
    path, body = build_request(job(seconds=9.0, aspect_ratio="21:9", passthrough={"loop": True}))
    assert path == "/dream-machine/v1/generations/video"
    assert body == {
        "prompt": "a fox",
        "model": "ray-2",
        "duration": "9s",
        "aspect_ratio": "21:9",
        "resolution": "720p",
        "loop": True,
    }


def test_image_is_the_first_keyframe(provider_media: Path) -> None:
    """Luma takes hosted image URLs only: the adapter sends the link it is given, never a data URI."""
    link = "https://reelay.example/v1/files/inputs/video_1/reference0.png?expires=1&signature=ab"
    _, body = build_request(job(mode="i2v", image_path=provider_media / "reference.png"), link)
    assert body["keyframes"]["frame0"] == {"type": "image", "url": link}


@pytest.mark.parametrize("overrides", [{"operation": "extend", "mode": "v2v"}, {"operation": "edit"}])
def test_video_operations_are_unsupported(overrides: dict[str, Any]) -> None:
    with pytest.raises(UpstreamError) as caught:
        build_request(job(**overrides))
    assert caught.value.code == "unsupported_operation" and "generation" in caught.value.message


def test_generation_states() -> None:
    assert parse_generation({"state": "queued"}, 1.0).state == "pending"
    assert parse_generation({"state": "dreaming"}, 1.0).state == "running"
    done = parse_generation({"state": "completed", "assets": {"video": "https://cdn/x.mp4"}}, 1.0)
    assert done.output_urls == ("https://cdn/x.mp4",)


# -- against the fake --------------------------------------------------------------------------------


async def test_round_trip(provider: LumaProvider, fake: LumaFake, tmp_path: Path) -> None:
    results = await h.round_trip(provider, job(), tmp_path / "out.mp4")
    assert [r.state for r in results] == ["running", "succeeded"]
    assert fake.creates()[0].headers["authorization"] == "Bearer test"


async def test_image_to_video_without_links_is_refused_before_sending(
    provider: LumaProvider, fake: LumaFake, provider_media: Path
) -> None:
    """With a link maker the round trip passes (test_provider_fidelity, test_hosted_inputs)."""
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job(mode="i2v", image_path=provider_media / "reference.png"))
    assert caught.value.code == "input_not_hostable" and not caught.value.retryable
    assert fake.creates() == []


async def test_refused_duration_is_not_retried(provider: LumaProvider, fake: LumaFake) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job(seconds=7.0))
    assert caught.value.code == "upstream_rejected" and not caught.value.retryable


async def test_cancel_deletes_the_generation(provider: LumaProvider, fake: LumaFake) -> None:
    upstream_id = await provider.submit(job())
    await provider.cancel(upstream_id)
    assert any(s.method == "DELETE" for s in fake.seen)
    await provider.cancel(upstream_id)  # already gone: 404 is fine


@pytest.mark.parametrize(("fault", "code", "retryable"), h.HTTP_FAULTS)
async def test_submit_failures(
    provider: LumaProvider, fake: LumaFake, fault: dict[str, Any], code: str, retryable: bool
) -> None:
    await h.expect_submit_fault(provider, fake, job(), CREATE, fault, code, retryable)


async def test_wrong_key(server: tuple[LumaFake, LoopbackServer], fake: LumaFake, client: httpx.AsyncClient) -> None:
    await h.expect_wrong_key(LumaProvider, server[1].url, client, job())


async def test_slow_answer(server: tuple[LumaFake, LoopbackServer], fake: LumaFake) -> None:
    await h.expect_timeout(LumaProvider, server[1].url, fake, job(), CREATE)


async def test_poll_failure_then_recovery(provider: LumaProvider, fake: LumaFake) -> None:
    await h.expect_poll_fault(provider, fake, job(), POLL)


@pytest.mark.parametrize(
    ("outcome", "code", "retryable"),
    [
        *[(o, c, r) for o, (c, r) in h.COMMON_OUTCOMES.items()],
        *OUTCOMES,
    ],
)
async def test_outcomes(provider: LumaProvider, fake: LumaFake, outcome: str, code: str, retryable: bool) -> None:
    await h.expect_outcome(provider, fake, job(), outcome, code, retryable)


async def test_expired_output(provider: LumaProvider, fake: LumaFake, tmp_path: Path) -> None:
    await h.expect_expired_output(provider, fake, job(), tmp_path)
