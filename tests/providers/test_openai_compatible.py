"""The OpenAI-compatible adapter: pure mapping, then against a vLLM-Omni-like loopback fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelay.errors import UpstreamError, UpstreamTimeout
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.openai_compatible import (
    OpenAICompatibleProvider,
    api_root,
    form_fields,
    input_file,
    parse_video,
    poll_after,
)
from tests.media_helpers import probe
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.openai_videos_fake import OpenAIVideosFake

MODEL = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"


def job(**overrides: Any) -> ProviderJob:
    values: dict[str, Any] = dict(
        video_id="video_1",
        index=0,
        model=MODEL,
        mode="t2v",
        prompt="a fox",
        width=848,
        height=480,
        seconds=3.0,
        seed=None,
    )
    values.update(overrides)
    return ProviderJob(**values)


# -- pure mapping ------------------------------------------------------------------------------------


def test_form_fields() -> None:
    assert form_fields(
        job(
            seed=7,
            passthrough={
                "num_inference_steps": 40,
                "negative_prompt": "blurry",
                "extra_params": {"preencode_mp4": True},
            },
        )
    ) == [
        ("prompt", "a fox"),
        ("model", MODEL),
        ("seconds", "3"),
        ("size", "848x480"),
        ("seed", "7"),
        ("num_inference_steps", "40"),
        ("negative_prompt", "blurry"),
        ("extra_params", '{"preencode_mp4": true}'),
    ]
    assert ("model", "") not in form_fields(job(model=""))  # empty model: the server's own


def test_extend_is_unsupported() -> None:
    with pytest.raises(UpstreamError) as caught:
        form_fields(job(operation="extend"))
    assert caught.value.code == "unsupported_operation" and not caught.value.retryable


def test_input_files(provider_media: Path) -> None:
    image, video = provider_media / "reference.png", provider_media / "input.mp4"
    assert input_file(job(), "input_reference") is None
    assert input_file(job(mode="i2v", image_path=image), "input_reference") == ("input_reference", image, "image/png")
    assert input_file(job(mode="v2v", video_path=video), "input_reference") == ("input_reference", video, "video/mp4")
    assert input_file(job(operation="edit", video_path=video), "input_video")[0] == "input_video"  # type: ignore[index]
    with pytest.raises(UpstreamError):
        input_file(job(mode="v2v"), "input_reference")


def test_api_root_and_poll_after() -> None:
    assert api_root("http://gpu:8091/v1/") == api_root("http://gpu:8091") == "http://gpu:8091"
    assert poll_after({"openai-poll-after-ms": "2500"}, 1.0) == 2.5
    assert poll_after({}, 1.5) == 1.5 and poll_after({"openai-poll-after-ms": "soon"}, 1.5) == 1.5


def test_parse_video_states() -> None:
    content = "http://x/v1/videos/v/content"
    assert parse_video("s", {"status": "queued"}, content, 1.0).state == "pending"
    running = parse_video("s", {"status": "in_progress", "progress": 30}, content, 0.5)
    assert (running.state, running.progress, running.poll_after) == ("running", 0.3, 0.5)
    done = parse_video("s", {"status": "completed"}, content, 1.0)
    assert done.state == "succeeded" and done.output_urls == (content,)
    oom = parse_video("s", {"status": "failed", "error": {"code": "500", "message": "CUDA out of memory"}}, content, 1)
    assert oom.error is not None and oom.error.retryable and "CUDA" in oom.error.message
    policy = parse_video("s", {"status": "failed", "error": {"code": "content_policy_violation"}}, content, 1)
    assert policy.error is not None and policy.error.code == "content_policy_violation"
    cancelled = parse_video("s", {"status": "cancelled"}, content, 1).error
    assert cancelled is not None and cancelled.code == "upstream_cancelled"


# -- against the fake --------------------------------------------------------------------------------


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


@pytest.fixture
def provider(
    openai_server: tuple[OpenAIVideosFake, LoopbackServer], openai_fake: OpenAIVideosFake, client: httpx.AsyncClient
) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(api_key="test", base_url=openai_server[1].url + "/v1", client=client)


async def run_to_end(provider: OpenAICompatibleProvider, upstream_id: str) -> PollResult:
    for _ in range(50):
        result = await provider.poll(upstream_id)
        if result.finished:
            return result
    raise AssertionError("never finished")


async def test_text_to_video_round_trip(
    provider: OpenAICompatibleProvider, openai_fake: OpenAIVideosFake, tmp_path: Path
) -> None:
    openai_fake.served_model = MODEL
    upstream_id = await provider.submit(job())
    first = await provider.poll(upstream_id)
    assert (first.state, first.progress, first.poll_after) == ("running", 0.5, 0.05)  # 10 ms header, floored
    result = await run_to_end(provider, upstream_id)
    await provider.fetch_output(upstream_id, result, tmp_path / "out.mp4")
    assert probe(tmp_path / "out.mp4")["video_codec"] == "h264"
    create = next(s for s in openai_fake.seen if s.method == "POST")
    assert create.headers["content-type"].startswith("multipart/form-data")
    assert create.body == {"prompt": "a fox", "model": MODEL, "seconds": "3", "size": "848x480"}
    assert not openai_fake.uploads


async def test_a_resubmission_under_the_same_key_gets_the_same_video(
    provider: OpenAICompatibleProvider, openai_fake: OpenAIVideosFake
) -> None:
    first = await provider.submit(job(idempotency_key="reelay-video_1-0-abc"))
    again = await provider.submit(job(idempotency_key="reelay-video_1-0-abc"))  # after a crash, say
    other = await provider.submit(job(idempotency_key="reelay-video_1-0-def"))
    assert first == again != other
    keys = [s.headers.get("idempotency-key") for s in openai_fake.seen if s.method == "POST"]
    assert keys == ["reelay-video_1-0-abc", "reelay-video_1-0-abc", "reelay-video_1-0-def"]
    assert len(openai_fake.videos) == 2


async def test_image_and_video_inputs_are_uploaded_as_input_reference(
    provider: OpenAICompatibleProvider, openai_fake: OpenAIVideosFake, provider_media: Path
) -> None:
    await provider.submit(job(mode="i2v", image_path=provider_media / "reference.png"))
    await provider.submit(job(mode="v2v", video_path=provider_media / "input.mp4"))
    image, video = openai_fake.uploads
    assert (image.field, image.content_type, image.data) == (
        "input_reference",
        "image/png",
        (provider_media / "reference.png").read_bytes(),
    )
    assert (video.field, video.content_type, video.filename) == ("input_reference", "video/mp4", "input.mp4")


@pytest.mark.parametrize(
    ("fault", "code", "retryable"),
    [
        ({"status": 401}, "upstream_auth_failed", False),
        ({"status": 429, "headers": {"Retry-After": "3"}}, "upstream_rate_limited", True),
        ({"status": 500}, "upstream_unavailable", True),
        ({"status": 503}, "upstream_unavailable", True),
        ({"status": 200, "raw": "<html>"}, "upstream_malformed", True),
        ({"status": 400}, "upstream_rejected", False),
    ],
)
async def test_submit_failures_are_typed(
    provider: OpenAICompatibleProvider,
    openai_fake: OpenAIVideosFake,
    fault: dict[str, Any],
    code: str,
    retryable: bool,
) -> None:
    openai_fake.fail_next(method="POST", **fault)
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job())
    assert (caught.value.code, caught.value.retryable) == (code, retryable)


async def test_wrong_model_is_rejected(provider: OpenAICompatibleProvider, openai_fake: OpenAIVideosFake) -> None:
    openai_fake.served_model = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job())
    assert caught.value.code == "upstream_rejected" and "not served here" in caught.value.message


async def test_slow_server_is_a_timeout(
    openai_server: tuple[OpenAIVideosFake, LoopbackServer], openai_fake: OpenAIVideosFake
) -> None:
    openai_fake.fail_next(method="POST", status=None, delay=1.0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2), trust_env=False) as impatient:
        provider = OpenAICompatibleProvider(api_key="test", base_url=openai_server[1].url, client=impatient)
        with pytest.raises(UpstreamTimeout):
            await provider.submit(job())


async def test_failed_job_answered_with_http_500_is_a_failed_result(
    provider: OpenAICompatibleProvider, openai_fake: OpenAIVideosFake
) -> None:
    openai_fake.outcome = "failed"
    result = await run_to_end(provider, await provider.submit(job()))
    assert result.state == "failed" and result.error is not None
    assert result.error.retryable and "CUDA out of memory" in result.error.message
    openai_fake.error = {"code": "content_policy_violation", "message": "refused"}
    result = await run_to_end(provider, await provider.submit(job()))
    assert result.error is not None and result.error.code == "content_policy_violation"


async def test_poll_errors_and_expired_content(
    provider: OpenAICompatibleProvider, openai_fake: OpenAIVideosFake, tmp_path: Path
) -> None:
    upstream_id = await provider.submit(job())
    openai_fake.fail_next(method="GET", status=502)
    with pytest.raises(UpstreamError) as caught:
        await provider.poll(upstream_id)
    assert caught.value.retryable
    result = await run_to_end(provider, upstream_id)
    openai_fake.output_expired = True
    with pytest.raises(UpstreamError) as gone:
        await provider.fetch_output(upstream_id, result, tmp_path / "out.mp4")
    assert gone.value.code == "upstream_output_expired"


async def test_cancel_deletes_upstream(provider: OpenAICompatibleProvider, openai_fake: OpenAIVideosFake) -> None:
    upstream_id = await provider.submit(job())
    await provider.cancel(upstream_id)
    assert openai_fake.deleted == [upstream_id]
    await provider.cancel(upstream_id)  # already gone: fine
    openai_fake.fail_next(method="DELETE", status=409)
    await provider.cancel("video_still_aborting")  # 409 while aborting: fine
    openai_fake.fail_next(method="DELETE", status=401)
    with pytest.raises(UpstreamError):
        await provider.cancel(upstream_id)
