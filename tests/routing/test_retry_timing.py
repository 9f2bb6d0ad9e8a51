"""Retry-After is honoured and retries back off, seen from the upstream's side of the wire.

The app runs as users run it (``create_app`` with its own workers) against a loopback fake of an
OpenAI Videos API server (the ``openai_compatible`` provider, model ``wan2.2-t2v``). The fake is
wrapped so that it stamps the arrival time of every request; each test scripts 429/503 answers and
checks the gaps between a refused request and the next one. Only lower bounds are asserted (a slow
machine makes gaps longer, never shorter), so these tests cannot flake on a loaded machine.

They know nothing of the worker's internals, so they hold for any rewrite of the job pipeline.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.errors import UpstreamError
from reelay.jobs.retry import RetryPolicy, counts_against_provider
from reelay.providers.openai_compatible import OpenAICompatibleProvider
from tests.media_helpers import make_video
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.openai_videos_fake import OpenAIVideosFake

CREATE = "/v1/videos"
CLOCK_SLACK = 0.005  # monotonic stamps taken in two threads of this process


@dataclass(frozen=True)
class Arrival:
    method: str
    path: str
    at: float


class Stamped:
    """ASGI middleware: the arrival time of every HTTP request, in order."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.arrivals: list[Arrival] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.arrivals.append(Arrival(scope["method"], scope["path"], time.monotonic()))
        await self.app(scope, receive, send)

    def times(self, method: str, path: str) -> list[float]:
        return [a.at for a in self.arrivals if a.method == method and a.path == path]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OpenAIVideosFake, Stamped, str]]:
    video = make_video(tmp_path_factory.mktemp("timing") / "out.mp4", seconds=1.0, width=320, height=180)
    fake = OpenAIVideosFake(video=video.read_bytes())
    stamped = Stamped(fake.app())
    with LoopbackServer(stamped) as server:
        yield fake, stamped, server.url


@pytest.fixture
def reelay(
    upstream: tuple[OpenAIVideosFake, Stamped, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """``reelay(retry_backoff_seconds=…)`` → a client of an app routed to the fake, workers running."""
    fake, stamped, url = upstream
    fake.reset()
    stamped.arrivals.clear()
    monkeypatch.setattr(OpenAICompatibleProvider, "poll_interval", 0.05)
    monkeypatch.setenv("REELAY_OPENAI_COMPATIBLE_API_KEY", fake.api_key)
    monkeypatch.setenv("REELAY_OPENAI_COMPATIBLE_BASE_URL", url)
    clients: list[TestClient] = []

    def start(backoff: float) -> TestClient:
        settings = Settings(data_dir=tmp_path / "data", local_render_processes=1, retry_backoff_seconds=backoff)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def run_job(client: TestClient, timeout: float = 60.0) -> dict[str, Any]:
    created = client.post("/v1/videos", json={"model": "wan2.2-t2v", "prompt": "a fox", "seconds": 4})
    assert created.status_code == 202, created.text
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/v1/videos/{created.json()['id']}").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def poll_times(fake: OpenAIVideosFake, stamped: Stamped) -> list[float]:
    (video_id,) = fake.videos
    return stamped.times("GET", f"/v1/videos/{video_id}")


def test_a_429_on_poll_waits_for_retry_after(reelay: Any, upstream: tuple[OpenAIVideosFake, Stamped, str]) -> None:
    fake, stamped, _ = upstream
    fake.fail_next(method="GET", path="/v1/videos/", status=429, headers={"Retry-After": "1"})
    done = run_job(reelay(0.01))  # backoff alone would retry within 15 ms
    assert done["status"] == "completed", done
    polls = poll_times(fake, stamped)
    assert len(polls) >= 2 and len(stamped.times("POST", CREATE)) == 1
    assert gaps(polls)[0] >= 1.0 - CLOCK_SLACK, gaps(polls)


def test_a_503_on_submit_waits_for_retry_after(reelay: Any, upstream: tuple[OpenAIVideosFake, Stamped, str]) -> None:
    fake, stamped, _ = upstream
    fake.fail_next(method="POST", path=CREATE, status=503, headers={"Retry-After": "1"})
    done = run_job(reelay(0.01))
    assert done["status"] == "completed", done
    submits = stamped.times("POST", CREATE)
    assert len(submits) == 2 and len(fake.videos) == 1
    assert gaps(submits)[0] >= 1.0 - CLOCK_SLACK, gaps(submits)


def test_repeated_poll_failures_back_off_exponentially(
    reelay: Any, upstream: tuple[OpenAIVideosFake, Stamped, str]
) -> None:
    """REELAY_RETRY_BACKOFF_SECONDS b: the n-th wait in a row is at least b·2ⁿ⁻¹/2 (±50 % jitter).

    Five failures make the last floor (8b) far above anything a backoff that does not double could
    wait (1.5b plus the request's own time), without asserting any upper bound.
    """
    fake, stamped, _ = upstream
    base = 0.05
    fake.fail_next(method="GET", path="/v1/videos/", status=503, times=5)
    done = run_job(reelay(base))
    assert done["status"] == "completed", done
    waits = gaps(poll_times(fake, stamped))[:5]
    assert len(waits) == 5
    for wait, floor in zip(waits, [0.5 * base * 2**n for n in range(5)], strict=True):
        assert wait >= floor - CLOCK_SLACK, waits


def test_repeated_submit_failures_back_off(reelay: Any, upstream: tuple[OpenAIVideosFake, Stamped, str]) -> None:
    fake, stamped, _ = upstream
    base = 0.2
    fake.fail_next(method="POST", path=CREATE, status=503, times=2)
    done = run_job(reelay(base))
    assert done["status"] == "completed", done
    waits = gaps(stamped.times("POST", CREATE))
    assert len(waits) == 2 and len(fake.videos) == 1
    for wait, floor in zip(waits, (0.5 * base, base), strict=True):
        assert wait >= floor - CLOCK_SLACK, waits


# The policy the pipeline above uses, in isolation: exact values, with the jitter pinned at its ends.


@pytest.mark.parametrize(("end", "factor"), [(0, 0.5), (1, 1.5)])
def test_the_delay_doubles_is_capped_and_jittered_by_half(
    monkeypatch: pytest.MonkeyPatch, end: int, factor: float
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: (low, high)[end])  # the jitter's bounds
    policy = RetryPolicy(backoff_base=2.0, backoff_cap=10.0)
    assert [policy.delay(attempt) for attempt in (0, 1, 2, 3, 4)] == [factor * d for d in (2, 2, 4, 8, 10)]
    assert policy.delay(3, retry_after=30.0) == 30.0  # never sooner than the provider's Retry-After
    assert policy.delay(3, retry_after=1.0) == factor * 8  # a shorter Retry-After does not cut the backoff
    assert policy.delay(3, retry_after=None) == factor * 8
    assert RetryPolicy(backoff_base=0.1).delay(1) == factor * 0.1  # no Retry-After: no floor either


def test_retries_stop_at_max_attempts_and_only_for_retryable_errors() -> None:
    policy = RetryPolicy(max_attempts=3)
    transient = UpstreamError("busy", retryable=True)
    assert policy.should_retry(transient, 2) and not policy.should_retry(transient, 3)
    assert not policy.should_retry(UpstreamError("bad prompt"), 1)
    assert counts_against_provider(transient)
    assert counts_against_provider(UpstreamError("key refused", code="upstream_auth_failed"))
    assert not counts_against_provider(UpstreamError("bad prompt", code="upstream_invalid_request"))
