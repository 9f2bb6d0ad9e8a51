"""fal's queue API: pure mapping, and the adapter against the loopback fake in every failure mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelay.catalog import load_catalog
from reelay.errors import UpstreamError
from reelay.providers.base import ProviderJob
from reelay.providers.fal import FalProvider, build_input, model_path, parse_submitted
from tests.providers import remote_harness as h
from tests.providers.fakes.fal_fake import FalFake
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.remote_fake import serve

KLING = "fal-ai/kling-video/v2.1/master/text-to-video"
CREATE = "/fal-ai/"
POLL = "/fal-ai/kling-video/requests/"
OUTCOMES = [("failed", "upstream_rejected", False)]


KLING_CARD = load_catalog().get("kling-2.1-master")


def job(**overrides: Any) -> ProviderJob:
    """A Kling job as the worker builds it: the fields the card omits for the mode are not sent."""
    omit = KLING_CARD.omitted(overrides.get("mode", "t2v"))
    return h.provider_job(**{"model": KLING, "resolution": "1080p", "omit": omit, **overrides})


@pytest.fixture(scope="module")
def server(provider_media: Path) -> Iterator[tuple[FalFake, LoopbackServer]]:
    fake = FalFake(video=(provider_media / "output.mp4").read_bytes())
    for running in serve(fake.app()):
        yield fake, running


@pytest.fixture
def fake(server: tuple[FalFake, LoopbackServer]) -> Iterator[FalFake]:
    server[0].reset()
    yield server[0]
    server[0].reset()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


@pytest.fixture
def provider(server: tuple[FalFake, LoopbackServer], fake: FalFake, client: httpx.AsyncClient) -> FalProvider:
    return FalProvider(api_key="test", base_url=server[1].url, client=client, poll_interval=0.01)


# -- pure mapping ------------------------------------------------------------------------------------


def test_text_to_video_input() -> None:
    body = build_input(job(seed=3, passthrough={"negative_prompt": "blur", "cfg_scale": 0.5}))
    # Kling declares no resolution or seed: the card omits them
    assert body == {
        "prompt": "a fox",
        "duration": "5",
        "aspect_ratio": "16:9",
        "negative_prompt": "blur",
        "cfg_scale": 0.5,
    }
    wan = build_input(job(model="fal-ai/wan-25-preview/text-to-video", seed=3, omit=frozenset()))
    assert (wan["resolution"], wan["seed"], wan["aspect_ratio"]) == ("1080p", 3, "16:9")


def test_image_job_goes_to_the_sibling_endpoint(provider_media: Path) -> None:
    image_job = job(mode="i2v", image_path=provider_media / "reference.png")
    assert model_path(image_job) == "fal-ai/kling-video/v2.1/master/image-to-video"
    assert build_input(image_job)["image_url"].startswith("data:image/png;base64,")
    assert "aspect_ratio" not in build_input(image_job)  # Kling image-to-video declares none
    assert model_path(job()) == KLING


def test_extend_is_unsupported() -> None:
    with pytest.raises(UpstreamError) as caught:
        build_input(job(operation="extend"))
    assert caught.value.code == "unsupported_operation" and not caught.value.retryable


def test_upstream_id_is_the_request_path_under_the_app() -> None:
    base = "https://queue.fal.run"
    data = {"request_id": "r1", "status_url": f"{base}/fal-ai/kling-video/requests/r1/status"}
    assert parse_submitted(data, KLING, base) == "fal-ai/kling-video/requests/r1"
    foreign = {"request_id": "r1", "status_url": "https://elsewhere.example/x/requests/r1/status"}
    assert parse_submitted(foreign, KLING, base) == "fal-ai/kling-video/requests/r1"


# -- against the fake --------------------------------------------------------------------------------


async def test_round_trip(provider: FalProvider, fake: FalFake, tmp_path: Path) -> None:
    results = await h.round_trip(provider, job(), tmp_path / "out.mp4")
    assert [r.state for r in results] == ["pending", "succeeded"]
    (create,) = fake.creates()
    assert create.path == f"/{KLING}" and create.headers["authorization"] == "Key test"


async def test_image_to_video(provider: FalProvider, fake: FalFake, provider_media: Path, tmp_path: Path) -> None:
    await h.round_trip(provider, job(mode="i2v", image_path=provider_media / "reference.png"), tmp_path / "o.mp4")
    assert fake.creates()[0].path == "/fal-ai/kling-video/v2.1/master/image-to-video"


async def test_refused_input_is_not_retried(provider: FalProvider, fake: FalFake) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job(seconds=7.0))
    assert caught.value.code == "upstream_rejected" and not caught.value.retryable


async def test_result_server_error_is_retried_in_place(provider: FalProvider, fake: FalFake) -> None:
    fake.outcome = "transient"
    upstream_id = await provider.submit(job())
    await provider.poll(upstream_id)
    with pytest.raises(UpstreamError) as caught:
        await provider.poll(upstream_id)
    assert caught.value.retryable


async def test_cancel_while_queued(provider: FalProvider, fake: FalFake) -> None:
    fake.pending_polls = 5
    upstream_id = await provider.submit(job())
    await provider.cancel(upstream_id)
    assert any(s.method == "PUT" and s.path.endswith("/cancel") for s in fake.seen)
    result = await h.run_to_end(provider, upstream_id)
    assert result.state == "failed"


async def test_cancel_after_completion_is_quiet(provider: FalProvider, fake: FalFake, tmp_path: Path) -> None:
    upstream_id = await provider.submit(job())
    done = await h.run_to_end(provider, upstream_id)
    assert done.state == "succeeded"
    await provider.cancel(upstream_id)  # fal answers 400 ALREADY_COMPLETED: nothing to do, no error
    cancels = [s for s in fake.seen if s.method == "PUT" and s.path.endswith(f"/{upstream_id}/cancel")]
    assert len(cancels) == 1  # the request was sent, and its refusal swallowed
    assert (await provider.poll(upstream_id)).state == "succeeded"  # the finished video is untouched
    await provider.fetch_output(upstream_id, done, tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == fake.video
    fake.fail_next(method="PUT", status=500)  # only fal's documented refusals are quiet
    with pytest.raises(UpstreamError) as caught:
        await provider.cancel(upstream_id)
    assert caught.value.retryable


@pytest.mark.parametrize(("fault", "code", "retryable"), h.HTTP_FAULTS)
async def test_submit_failures(
    provider: FalProvider, fake: FalFake, fault: dict[str, Any], code: str, retryable: bool
) -> None:
    await h.expect_submit_fault(provider, fake, job(), CREATE, fault, code, retryable)


async def test_wrong_key(server: tuple[FalFake, LoopbackServer], fake: FalFake, client: httpx.AsyncClient) -> None:
    await h.expect_wrong_key(FalProvider, server[1].url, client, job())


async def test_slow_answer(server: tuple[FalFake, LoopbackServer], fake: FalFake) -> None:
    await h.expect_timeout(FalProvider, server[1].url, fake, job(), CREATE)


async def test_poll_failure_then_recovery(provider: FalProvider, fake: FalFake) -> None:
    await h.expect_poll_fault(provider, fake, job(), POLL)


@pytest.mark.parametrize(
    ("outcome", "code", "retryable"),
    [
        *[(o, c, r) for o, (c, r) in h.COMMON_OUTCOMES.items()],
        *OUTCOMES,
    ],
)
async def test_outcomes(provider: FalProvider, fake: FalFake, outcome: str, code: str, retryable: bool) -> None:
    await h.expect_outcome(provider, fake, job(), outcome, code, retryable)


async def test_expired_output(provider: FalProvider, fake: FalFake, tmp_path: Path) -> None:
    await h.expect_expired_output(provider, fake, job(), tmp_path)
