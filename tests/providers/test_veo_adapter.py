"""Veo on the Gemini API: pure mapping, and the adapter against the loopback fake in every failure mode."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelay.errors import UpstreamError
from reelay.providers.base import ProviderJob
from reelay.providers.veo import VeoProvider, build_request, parse_operation
from tests.providers import remote_harness as h
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.remote_fake import serve
from tests.providers.fakes.veo_fake import VeoFake

CREATE = "/v1beta/models/"
POLL = "/v1beta/models/veo-3.0-generate-001/operations/"


def job(**overrides: Any) -> ProviderJob:
    """A veo-3 job as the worker builds it: the card omits durationSeconds (refused for Veo 3)."""
    values = {"model": "veo-3.0-generate-001", "seconds": 8.0, "omit": frozenset({"durationSeconds"}), **overrides}
    return h.provider_job(**values)


@pytest.fixture(scope="module")
def server(provider_media: Path) -> Iterator[tuple[VeoFake, LoopbackServer]]:
    fake = VeoFake(video=(provider_media / "output.mp4").read_bytes())
    for running in serve(fake.app()):
        yield fake, running


@pytest.fixture
def fake(server: tuple[VeoFake, LoopbackServer]) -> Iterator[VeoFake]:
    server[0].reset()
    yield server[0]
    server[0].reset()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


@pytest.fixture
def provider(server: tuple[VeoFake, LoopbackServer], fake: VeoFake, client: httpx.AsyncClient) -> VeoProvider:
    return VeoProvider(api_key="test", base_url=server[1].url, client=client, poll_interval=0.01)


# -- pure mapping ------------------------------------------------------------------------------------


def test_text_to_video_body() -> None:
    path, body = build_request(job(resolution="1080p", passthrough={"negativePrompt": "rain"}))
    assert path == "/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    assert body == {
        "instances": [{"prompt": "a fox"}],
        "parameters": {"aspectRatio": "16:9", "resolution": "1080p", "negativePrompt": "rain"},
    }
    # a model whose card does not omit it (Veo 3.1 takes 4, 6 or 8) gets durationSeconds
    _, body = build_request(job(model="veo-3.1-generate-preview", omit=frozenset()))
    assert body["parameters"]["durationSeconds"] == 8


def test_image_is_inline_base64(provider_media: Path) -> None:
    _, body = build_request(job(mode="i2v", image_path=provider_media / "reference.png"))
    image = body["instances"][0]["image"]
    assert image["mimeType"] == "image/png" and not image["bytesBase64Encoded"].startswith("data:")


@pytest.mark.parametrize("overrides", [{"operation": "edit"}, {"operation": "extend"}, {"mode": "v2v"}])
def test_video_input_is_unsupported(overrides: dict[str, Any]) -> None:
    with pytest.raises(UpstreamError) as caught:
        build_request(job(**overrides))
    assert caught.value.code == "unsupported_operation" and not caught.value.retryable


def test_operation_states() -> None:
    assert parse_operation({"name": "x"}, 2.0).state == "running"
    done = {"done": True, "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri": "u"}}]}}}
    assert parse_operation(done, 2.0).output_urls == ("u",)
    filtered = {"done": True, "response": {"generateVideoResponse": {"raiMediaFilteredCount": 1}}}
    error = parse_operation(filtered, 2.0).error
    assert error is not None and error.code == "content_policy_violation"
    unavailable = parse_operation({"done": True, "error": {"code": 14, "message": "try later"}}, 2.0).error
    assert unavailable is not None and unavailable.retryable


# -- against the fake --------------------------------------------------------------------------------


async def test_round_trip(provider: VeoProvider, fake: VeoFake, tmp_path: Path) -> None:
    results = await h.round_trip(provider, job(), tmp_path / "out.mp4")
    assert [r.state for r in results] == ["running", "succeeded"]
    (create,) = fake.creates()
    assert create.headers["x-goog-api-key"] == "test"
    download = [s for s in fake.seen if s.path.startswith("/v1beta/files/")]
    assert download and download[0].headers["x-goog-api-key"] == "test"  # Google's download wants the key


async def test_image_to_video(provider: VeoProvider, fake: VeoFake, provider_media: Path, tmp_path: Path) -> None:
    image = provider_media / "reference.png"
    await h.round_trip(provider, job(mode="i2v", image_path=image), tmp_path / "o.mp4")
    (create,) = fake.creates()  # Veo takes instances[0].image as optional: the test requires the image
    sent = create.body["instances"][0]["image"]
    assert sent["mimeType"] == "image/png"
    assert base64.b64decode(sent["bytesBase64Encoded"], validate=True) == image.read_bytes()


@pytest.mark.parametrize(("fault", "code", "retryable"), h.HTTP_FAULTS)
async def test_submit_failures(
    provider: VeoProvider, fake: VeoFake, fault: dict[str, Any], code: str, retryable: bool
) -> None:
    await h.expect_submit_fault(provider, fake, job(), CREATE, fault, code, retryable)


async def test_refused_parameter_is_not_retried(provider: VeoProvider, fake: VeoFake) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job(passthrough={"seed": 7}))
    assert caught.value.code == "upstream_rejected" and "Unknown name" in caught.value.message


async def test_wrong_key(server: tuple[VeoFake, LoopbackServer], fake: VeoFake, client: httpx.AsyncClient) -> None:
    await h.expect_wrong_key(VeoProvider, server[1].url, client, job())


async def test_slow_answer(server: tuple[VeoFake, LoopbackServer], fake: VeoFake) -> None:
    await h.expect_timeout(VeoProvider, server[1].url, fake, job(), CREATE)


async def test_poll_failure_then_recovery(provider: VeoProvider, fake: VeoFake) -> None:
    await h.expect_poll_fault(provider, fake, job(), POLL)


@pytest.mark.parametrize(
    ("outcome", "code", "retryable"),
    [
        *[(o, c, r) for o, (c, r) in h.COMMON_OUTCOMES.items()],
        ("failed", "upstream_failed", False),
        ("transient", "upstream_failed", True),
    ],
)
async def test_outcomes(provider: VeoProvider, fake: VeoFake, outcome: str, code: str, retryable: bool) -> None:
    await h.expect_outcome(provider, fake, job(), outcome, code, retryable)


async def test_expired_output(provider: VeoProvider, fake: VeoFake, tmp_path: Path) -> None:
    await h.expect_expired_output(provider, fake, job(), tmp_path)


async def test_cancel_is_a_documented_no_op(provider: VeoProvider, fake: VeoFake) -> None:
    upstream_id = await provider.submit(job())
    before = len(fake.seen)
    await provider.cancel(upstream_id)
    assert len(fake.seen) == before and provider.resumable
