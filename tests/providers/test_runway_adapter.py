"""Runway's developer API: pure mapping, and the adapter against the loopback fake in every failure mode."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelay.errors import UpstreamError
from reelay.providers.base import ProviderJob
from reelay.providers.runway import RunwayProvider, build_request, parse_task
from tests.media_helpers import make_image
from tests.providers import remote_harness as h
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.remote_fake import serve
from tests.providers.fakes.runway_fake import RunwayFake

CREATE = "/v1/image_to_video"
POLL = "/v1/tasks/"
OUTCOMES = [("failed", "upstream_failed", False), ("transient", "upstream_failed", True)]
_REFERENCE: list[Path] = []


def job(**overrides: Any) -> ProviderJob:
    values = {"model": "gen4_turbo", "mode": "i2v", "image_path": _reference(), **overrides}
    return h.provider_job(**values)


def _reference() -> Path:
    """gen4_turbo only does image-to-video, so every default job carries an image (made once, in /tmp)."""
    if not _REFERENCE:
        _REFERENCE.append(make_image(Path(tempfile.mkdtemp(prefix="runway-")) / "reference.png", 320, 240))
    return _REFERENCE[0]


@pytest.fixture(scope="module")
def server(provider_media: Path) -> Iterator[tuple[RunwayFake, LoopbackServer]]:
    fake = RunwayFake(video=(provider_media / "output.mp4").read_bytes())
    for running in serve(fake.app()):
        yield fake, running


@pytest.fixture
def fake(server: tuple[RunwayFake, LoopbackServer]) -> Iterator[RunwayFake]:
    server[0].reset()
    yield server[0]
    server[0].reset()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


@pytest.fixture
def provider(server: tuple[RunwayFake, LoopbackServer], fake: RunwayFake, client: httpx.AsyncClient) -> RunwayProvider:
    return RunwayProvider(api_key="test", base_url=server[1].url, client=client, poll_interval=0.01)


# -- pure mapping ------------------------------------------------------------------------------------


def test_image_to_video_body() -> None:
    path, body = build_request(job(width=1104, height=832, seed=9, seconds=10.0))
    assert path == "/v1/image_to_video"
    assert body["ratio"] == "1104:832" and body["duration"] == 10 and body["seed"] == 9
    assert body["promptText"] == "a fox" and body["promptImage"].startswith("data:image/png;base64,")


def test_text_and_video_routes(provider_media: Path) -> None:
    assert build_request(job(mode="t2v", model="gen4.5"))[0] == "/v1/text_to_video"
    path, body = build_request(
        job(operation="edit", mode="v2v", model="aleph2", video_path=provider_media / "input.mp4")
    )
    assert path == "/v1/video_to_video" and body["videoUri"].startswith("data:video/mp4;base64,")
    with pytest.raises(UpstreamError) as caught:
        build_request(job(operation="extend"))
    assert caught.value.code == "unsupported_operation"


def test_task_states() -> None:
    assert parse_task({"status": "THROTTLED"}, 1.0).state == "pending"
    running = parse_task({"status": "RUNNING", "progress": 0.25}, 1.0)
    assert (running.state, running.progress) == ("running", 0.25)
    safety = parse_task({"status": "FAILED", "failure": "x", "failureCode": "SAFETY.OUTPUT.VIDEO"}, 1.0).error
    assert safety is not None and safety.code == "content_policy_violation"


# -- against the fake --------------------------------------------------------------------------------


async def test_round_trip(provider: RunwayProvider, fake: RunwayFake, tmp_path: Path) -> None:
    results = await h.round_trip(provider, job(), tmp_path / "out.mp4")
    assert [r.state for r in results] == ["pending", "succeeded"]
    (create,) = fake.creates()
    assert create.headers["x-runway-version"] == "2024-11-06"
    assert create.headers["authorization"] == "Bearer test"


async def test_progress_is_reported(provider: RunwayProvider, fake: RunwayFake) -> None:
    fake.pending_polls = 2
    upstream_id = await provider.submit(job())
    await provider.poll(upstream_id)
    assert (await provider.poll(upstream_id)).progress == 0.5


async def test_video_to_video(provider: RunwayProvider, fake: RunwayFake, provider_media: Path, tmp_path: Path) -> None:
    edit = job(operation="edit", mode="v2v", model="aleph2", video_path=provider_media / "input.mp4")
    await h.round_trip(provider, edit, tmp_path / "out.mp4")
    (create,) = fake.creates()
    assert create.path == "/v1/video_to_video"
    assert h.data_uri_bytes(create.body["videoUri"]) == (provider_media / "input.mp4").read_bytes()


async def test_refused_ratio_is_not_retried(provider: RunwayProvider, fake: RunwayFake) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job(width=1000, height=1000))
    assert caught.value.code == "upstream_rejected" and not caught.value.retryable


async def test_cancel_deletes_the_task(provider: RunwayProvider, fake: RunwayFake) -> None:
    fake.pending_polls = 5
    upstream_id = await provider.submit(job())
    await provider.cancel(upstream_id)
    assert any(s.method == "DELETE" for s in fake.seen)
    result = await h.run_to_end(provider, upstream_id)
    assert result.error is not None and result.error.code == "upstream_cancelled"
    await provider.cancel("no-such-task")  # 404 is fine


@pytest.mark.parametrize(("fault", "code", "retryable"), h.HTTP_FAULTS)
async def test_submit_failures(
    provider: RunwayProvider, fake: RunwayFake, fault: dict[str, Any], code: str, retryable: bool
) -> None:
    await h.expect_submit_fault(provider, fake, job(), CREATE, fault, code, retryable)


async def test_wrong_key(
    server: tuple[RunwayFake, LoopbackServer], fake: RunwayFake, client: httpx.AsyncClient
) -> None:
    await h.expect_wrong_key(RunwayProvider, server[1].url, client, job())


async def test_slow_answer(server: tuple[RunwayFake, LoopbackServer], fake: RunwayFake) -> None:
    await h.expect_timeout(RunwayProvider, server[1].url, fake, job(), CREATE)


async def test_poll_failure_then_recovery(provider: RunwayProvider, fake: RunwayFake) -> None:
    await h.expect_poll_fault(provider, fake, job(), POLL)


@pytest.mark.parametrize(
    ("outcome", "code", "retryable"),
    [
        *[(o, c, r) for o, (c, r) in h.COMMON_OUTCOMES.items()],
        *OUTCOMES,
    ],
)
async def test_outcomes(provider: RunwayProvider, fake: RunwayFake, outcome: str, code: str, retryable: bool) -> None:
    await h.expect_outcome(provider, fake, job(), outcome, code, retryable)


async def test_expired_output(provider: RunwayProvider, fake: RunwayFake, tmp_path: Path) -> None:
    await h.expect_expired_output(provider, fake, job(), tmp_path)
