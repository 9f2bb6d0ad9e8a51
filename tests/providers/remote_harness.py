"""Checks every remote adapter (Veo, fal, Replicate, Runway, Luma) must pass against its loopback fake.

Each ``test_<provider>_adapter.py`` module supplies its provider, fake and a valid job and calls these;
each ``test_<provider>_end_to_end.py`` uses ``app_client`` / ``finish`` to drive Reelay over HTTP.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.errors import UpstreamError, UpstreamTimeout
from reelay.providers.base import PollResult, Provider, ProviderJob
from tests.media_helpers import probe
from tests.providers.fakes.remote_fake import RemoteFake

# (fault kwargs, expected code, expected retryable) for any request the adapter makes.
HTTP_FAULTS: list[tuple[dict[str, Any], str, bool]] = [
    ({"status": 401}, "upstream_auth_failed", False),
    ({"status": 429, "headers": {"Retry-After": "7"}}, "upstream_rate_limited", True),
    ({"status": 500}, "upstream_unavailable", True),
    ({"status": 503}, "upstream_unavailable", True),
    ({"status": 200, "raw": "{not json"}, "upstream_malformed", True),
]
# outcome → (code, retryable) shared by every provider; "failed" differs and is given per provider.
COMMON_OUTCOMES: dict[str, tuple[str, bool]] = {
    "moderated": ("content_policy_violation", False),
    "no_url": ("upstream_malformed", True),
}


class RemoteProvider(Provider, Protocol):
    def __init__(
        self, *, api_key: str, base_url: str, client: httpx.AsyncClient, poll_interval: float | None = None
    ) -> None: ...


def provider_job(**overrides: Any) -> ProviderJob:
    values: dict[str, Any] = dict(
        video_id="video_1",
        index=0,
        model="m",
        mode="t2v",
        prompt="a fox",
        width=1280,
        height=720,
        seconds=5.0,
        seed=None,
        aspect_ratio="16:9",
        resolution="720p",
    )
    values.update(overrides)
    return ProviderJob(**values)


async def run_to_end(provider: Provider, upstream_id: str) -> PollResult:
    for _ in range(50):
        result = await provider.poll(upstream_id)
        if result.finished:
            return result
    raise AssertionError("never finished")


async def round_trip(provider: Provider, job: ProviderJob, destination: Path) -> list[PollResult]:
    """Submit, poll to the end, download; every poll result in order."""
    upstream_id = await provider.submit(job)
    results = [await provider.poll(upstream_id)]
    while not results[-1].finished:
        results.append(await provider.poll(upstream_id))
    assert results[-1].state == "succeeded", results[-1]
    await provider.fetch_output(upstream_id, results[-1], destination)
    assert probe(destination)["video_codec"] == "h264"
    return results


async def expect_submit_fault(
    provider: Provider,
    fake: RemoteFake,
    job: ProviderJob,
    path: str,
    fault: dict[str, Any],
    code: str,
    retryable: bool,
) -> None:
    fake.fail_next(method="POST", path=path, **fault)
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job)
    assert (caught.value.code, caught.value.retryable) == (code, retryable), caught.value.message
    if fault["status"] == 429:
        assert caught.value.retry_after == 7.0


async def expect_poll_fault(provider: Provider, fake: RemoteFake, job: ProviderJob, path: str) -> None:
    upstream_id = await provider.submit(job)
    fake.fail_next(method="GET", path=path, status=503)
    with pytest.raises(UpstreamError) as caught:
        await provider.poll(upstream_id)
    assert caught.value.retryable and caught.value.code == "upstream_unavailable"
    assert (await run_to_end(provider, upstream_id)).state == "succeeded"  # the next poll goes on


async def expect_timeout(cls: type[RemoteProvider], url: str, fake: RemoteFake, job: ProviderJob, path: str) -> None:
    fake.fail_next(method="POST", path=path, status=None, delay=1.0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2), trust_env=False) as impatient:
        provider = cls(api_key="test", base_url=url, client=impatient)
        with pytest.raises(UpstreamTimeout) as caught:
            await provider.submit(job)
    assert caught.value.retryable


async def expect_wrong_key(cls: type[RemoteProvider], url: str, client: httpx.AsyncClient, job: ProviderJob) -> None:
    provider = cls(api_key="wrong", base_url=url, client=client)
    with pytest.raises(UpstreamError) as caught:
        await provider.submit(job)
    assert (caught.value.code, caught.value.retryable) == ("upstream_auth_failed", False), caught.value.message


async def expect_outcome(
    provider: Provider, fake: RemoteFake, job: ProviderJob, outcome: Any, code: str, retryable: bool
) -> UpstreamError:
    fake.outcome = outcome
    result = await run_to_end(provider, await provider.submit(job))
    assert result.state == "failed" and result.error is not None
    assert (result.error.code, result.error.retryable) == (code, retryable), result.error.message
    return result.error


async def expect_expired_output(provider: Provider, fake: RemoteFake, job: ProviderJob, tmp_path: Path) -> None:
    upstream_id = await provider.submit(job)
    result = await run_to_end(provider, upstream_id)
    fake.output_expired = True
    with pytest.raises(UpstreamError) as caught:
        await provider.fetch_output(upstream_id, result, tmp_path / "out.mp4")
    assert caught.value.code == "upstream_output_expired" and not caught.value.retryable


# -- end to end through Reelay ---------------------------------------------------------------------


def app_client(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str], provider_cls: type[Any]
) -> Iterator[TestClient]:
    """The production app, finding the provider through its environment variables at start-up."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(provider_cls, "poll_interval", 0.05)
        data_dir = tmp_path_factory.mktemp("reelay-remote")
        with TestClient(create_app(Settings(data_dir=data_dir, local_render_processes=1))) as client:
            yield client


def finish(client: TestClient, video_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/videos/{video_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} is stuck: {client.get(f'/v1/videos/{video_id}').json()}")


def assert_completed_with_mp4(client: TestClient, body: dict[str, Any], provider: str, tmp_path: Path) -> None:
    assert body["status"] == "completed", body
    assert body["metadata"]["provider"] == provider
    content = client.get(f"/v1/videos/{body['id']}/content")
    assert content.status_code == 200 and content.headers["content-type"].startswith("video/mp4")
    (tmp_path / "got.mp4").write_bytes(content.content)
    assert probe(tmp_path / "got.mp4")["video_codec"] == "h264"


def assert_failed(client: TestClient, body: dict[str, Any], code: str) -> None:
    assert body["status"] == "failed" and body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert client.get(f"/v1/videos/{body['id']}/content").status_code == 409


def data_uri_bytes(uri: str) -> bytes:
    """The bytes a ``data:<mime>;base64,…`` URI carries (a dropped or mangled input fails here)."""
    header, _, payload = uri.partition(",")
    assert header.startswith("data:") and header.endswith(";base64"), header[:60]
    return base64.b64decode(payload, validate=True)
