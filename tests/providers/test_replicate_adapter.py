"""Replicate's predictions API: pure mapping, and the adapter against the loopback fake in every failure mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelay.errors import UpstreamError
from reelay.providers.base import ProviderJob
from reelay.providers.replicate import ReplicateProvider, build_input, build_request, parse_prediction
from tests.providers import remote_harness as h
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.remote_fake import serve
from tests.providers.fakes.replicate_fake import SCHEMAS, VERSION, ReplicateFake

CREATE = "/v1/models/minimax/video-01/predictions"
POLL = "/v1/predictions/"
OUTCOMES = [("failed", "upstream_failed", False)]


def job(**overrides: Any) -> ProviderJob:
    return h.provider_job(**{"model": "minimax/video-01", "seconds": 6.0, **overrides})


@pytest.fixture(scope="module")
def server(provider_media: Path) -> Iterator[tuple[ReplicateFake, LoopbackServer]]:
    fake = ReplicateFake(video=(provider_media / "output.mp4").read_bytes())
    for running in serve(fake.app()):
        yield fake, running


@pytest.fixture
def fake(server: tuple[ReplicateFake, LoopbackServer]) -> Iterator[ReplicateFake]:
    server[0].reset()
    yield server[0]
    server[0].reset()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


@pytest.fixture
def provider(
    server: tuple[ReplicateFake, LoopbackServer], fake: ReplicateFake, client: httpx.AsyncClient
) -> ReplicateProvider:
    return ReplicateProvider(api_key="test", base_url=server[1].url, client=client, poll_interval=0.01)


# -- pure mapping ------------------------------------------------------------------------------------


def test_only_declared_inputs_are_sent(provider_media: Path) -> None:
    minimax = build_input(
        job(mode="i2v", image_path=provider_media / "reference.png", seed=4), SCHEMAS["minimax/video-01"]
    )
    assert set(minimax) == {"prompt", "first_frame_image"}
    generic = build_input(job(seed=4, passthrough={"extra": 1}), SCHEMAS["acme/video-gen"])
    assert generic == {
        "prompt": "a fox",
        "duration": "6",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "seed": 4,
        "extra": 1,
    }


def test_missing_image_input_is_unsupported(provider_media: Path) -> None:
    with pytest.raises(UpstreamError) as caught:
        build_input(job(mode="i2v", image_path=provider_media / "reference.png"), {"prompt": {}})
    assert caught.value.code == "unsupported_operation"


def test_pinned_version_uses_the_generic_route() -> None:
    path, body = build_request(job(model=f"acme/video-gen:{VERSION}"), SCHEMAS["acme/video-gen"])
    assert path == "/v1/predictions" and body["version"] == VERSION
    assert build_request(job(), SCHEMAS["minimax/video-01"])[0] == CREATE


def test_prediction_states() -> None:
    assert parse_prediction({"status": "starting"}, 1.0).state == "pending"
    assert parse_prediction({"status": "processing"}, 1.0).state == "running"
    assert parse_prediction({"status": "succeeded", "output": ["https://x/a.mp4"]}, 1.0).output_urls == (
        "https://x/a.mp4",
    )
    nsfw = parse_prediction({"status": "failed", "error": "NSFW content detected"}, 1.0).error
    assert nsfw is not None and nsfw.code == "content_policy_violation"


# -- against the fake --------------------------------------------------------------------------------


async def test_round_trip(provider: ReplicateProvider, fake: ReplicateFake, tmp_path: Path) -> None:
    results = await h.round_trip(provider, job(), tmp_path / "out.mp4")
    assert [r.state for r in results] == ["running", "succeeded"]
    (create,) = fake.creates()
    assert create.path == CREATE and create.body == {"input": {"prompt": "a fox"}}


async def test_schema_is_read_once_per_model(provider: ReplicateProvider, fake: ReplicateFake) -> None:
    await provider.submit(job())
    await provider.submit(job())
    assert len([s for s in fake.seen if s.path == "/v1/models/minimax/video-01"]) == 1


async def test_pinned_version(provider: ReplicateProvider, fake: ReplicateFake, tmp_path: Path) -> None:
    await h.round_trip(provider, job(model=f"acme/video-gen:{VERSION}", seconds=5.0), tmp_path / "out.mp4")
    (create,) = fake.creates()
    assert create.path == "/v1/predictions" and create.body["input"]["duration"] == "5"


async def test_undeclared_passthrough_is_refused(provider: ReplicateProvider, fake: ReplicateFake) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job(passthrough={"fps": 30}))
    assert caught.value.code == "upstream_rejected" and "Additional property" in caught.value.message


async def test_canceled_prediction(provider: ReplicateProvider, fake: ReplicateFake) -> None:
    upstream_id = await provider.submit(job())
    await provider.cancel(upstream_id)
    result = await h.run_to_end(provider, upstream_id)
    assert result.error is not None and result.error.code == "upstream_cancelled"


@pytest.mark.parametrize(("fault", "code", "retryable"), h.HTTP_FAULTS)
async def test_submit_failures(
    provider: ReplicateProvider, fake: ReplicateFake, fault: dict[str, Any], code: str, retryable: bool
) -> None:
    await h.expect_submit_fault(provider, fake, job(), CREATE, fault, code, retryable)


async def test_wrong_key(
    server: tuple[ReplicateFake, LoopbackServer], fake: ReplicateFake, client: httpx.AsyncClient
) -> None:
    await h.expect_wrong_key(ReplicateProvider, server[1].url, client, job())


async def test_slow_answer(server: tuple[ReplicateFake, LoopbackServer], fake: ReplicateFake) -> None:
    await h.expect_timeout(ReplicateProvider, server[1].url, fake, job(), CREATE)


async def test_poll_failure_then_recovery(provider: ReplicateProvider, fake: ReplicateFake) -> None:
    await h.expect_poll_fault(provider, fake, job(), POLL)


@pytest.mark.parametrize(
    ("outcome", "code", "retryable"),
    [
        *[(o, c, r) for o, (c, r) in h.COMMON_OUTCOMES.items()],
        *OUTCOMES,
    ],
)
async def test_outcomes(
    provider: ReplicateProvider, fake: ReplicateFake, outcome: str, code: str, retryable: bool
) -> None:
    await h.expect_outcome(provider, fake, job(), outcome, code, retryable)


async def test_expired_output(provider: ReplicateProvider, fake: ReplicateFake, tmp_path: Path) -> None:
    await h.expect_expired_output(provider, fake, job(), tmp_path)
