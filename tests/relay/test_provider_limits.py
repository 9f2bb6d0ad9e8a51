"""Explicit provider limits: ``max_in_flight`` in reelay.toml caps the jobs waiting on a provider;
the rest stay queued, say why in their video object, and go upstream as earlier ones finish."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from reelay.jobs import limits
from reelay.jobs.limits import Admission, ProviderLimits, SubmitGate, resolve_limits
from tests.media_helpers import make_video
from tests.scale.cluster import Cluster

JOBS = 6
LIMIT = 2


def test_jobs_over_the_in_flight_limit_stay_queued_and_say_why(tmp_path: Path) -> None:
    video = make_video(tmp_path / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
    config = tmp_path / "reelay.toml"
    config.write_text(f"[providers.openai_compatible]\nmax_in_flight = {LIMIT}\n")
    cluster = Cluster(tmp_path, {})
    try:
        fake = cluster.fake(video, min_latency=1.5, max_latency=1.5, poll_after_ms=200)
        cluster.wait_ready(fake, "/_stats")
        serve = cluster.serve_in_front_of(fake, tmp_path / "data", REELAY_CONFIG_FILE=str(config))
        with httpx.Client(base_url=str(serve.url), timeout=30) as client:
            ids = [
                client.post(
                    "/v1/videos", json={"model": "wan2.2-t2v", "prompt": f"limited {i}", "seconds": "1"}
                ).json()["id"]
                for i in range(JOBS)
            ]
            reasons: set[str] = set()
            most_generating = 0
            done: set[str] = set()
            deadline = time.monotonic() + 90
            while len(done) < JOBS and time.monotonic() < deadline:
                most_generating = max(most_generating, httpx.get(f"{fake.url}/_stats").json()["generating"])
                for video_id in ids:
                    body = client.get(f"/v1/videos/{video_id}").json()
                    assert body["status"] not in ("failed", "cancelled"), body
                    if body["status"] == "completed":
                        done.add(video_id)
                    elif body["metadata"].get("queued_reason"):
                        assert body["status"] == "queued", body
                        reasons.add(body["metadata"]["queued_reason"])
                time.sleep(0.05)
        assert len(done) == JOBS, serve.tail()
        assert most_generating <= LIMIT
        assert any("max_in_flight = 2" in reason for reason in reasons), reasons
        assert httpx.get(f"{fake.url}/_stats").json()["submissions"] == JOBS
    finally:
        cluster.close()


# The gate the worker asks before each submit, in isolation, on a clock the test moves.


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(limits, "time", fake)  # only the gate's clock: asyncio keeps the real one
    return fake


async def test_in_flight_counts_the_job_table_and_this_process(clock: Clock) -> None:
    table = {"runway": 1}
    counts: list[int] = []

    async def count_in_flight() -> dict[str, int]:
        counts.append(1)
        return dict(table)

    gate = SubmitGate({"runway": ProviderLimits(max_in_flight=2)}, count_in_flight)  # the table: every 0.5 s
    assert await gate.admit("runway") == Admission(True, reserved=True)
    refused = await gate.admit("runway")  # 1 in the table + 1 being submitted here
    assert refused == Admission(
        False,
        retry_in=1.0,
        reason="queued: provider runway has 2 jobs in flight, its limit (max_in_flight = 2 in reelay.toml)",
    )
    assert gate.available("runway", {"runway": 1}) == 0
    await gate.release("runway", now_waiting=False)  # the submit failed: its place is free again
    assert gate.available("runway", {"runway": 1}) == 1 and gate.available("runway", {"runway": 3}) == 0
    assert (await gate.admit("runway")).allowed
    await gate.release("runway", now_waiting=True)  # upstream now: counted here until the table shows it
    clock.now += 0.5  # not yet time to count the table again
    assert not (await gate.admit("runway")).allowed and len(counts) == 1
    clock.now += 0.01  # the table now has that job, and the first one finished
    assert (await gate.admit("runway")).allowed and len(counts) == 2


async def test_uncounted_providers_are_zero_and_each_job_counts_once(clock: Clock) -> None:
    async def count_in_flight() -> dict[str, int]:
        return {}  # the job table has nothing of this provider

    gate = SubmitGate({"runway": ProviderLimits(max_in_flight=3)}, count_in_flight, refresh_seconds=60)
    assert gate.available("runway", {}) == 3
    await gate.release("runway", now_waiting=False)  # nothing was reserved: nothing to give back
    assert gate.available("runway", {}) == 3
    assert [(await gate.admit("runway")).allowed for _ in range(4)] == [True, True, True, False]
    await gate.release("runway", now_waiting=False)
    assert gate.available("runway", {}) == 1  # two still being submitted
    await gate.release("runway", now_waiting=True)
    await gate.release("runway", now_waiting=True)
    assert gate.available("runway", {}) == 3  # by the table (which has not seen them yet)
    # The two now upstream count here until the table is read again: one place is left.
    assert [(await gate.admit("runway")).allowed for _ in range(2)] == [True, False]


async def test_a_provider_without_limits_is_not_gated(clock: Clock) -> None:
    async def count_in_flight() -> dict[str, int]:
        raise AssertionError("an unlimited provider needs no count")

    gate = SubmitGate({"runway": ProviderLimits(max_in_flight=1)}, count_in_flight)
    assert await gate.admit("xai") == Admission(True)  # nothing reserved, nothing to release
    assert gate.available("xai", {"xai": 50}) is None
    assert gate.limited("runway") and not gate.limited("xai")
    assert not SubmitGate({"xai": ProviderLimits()}, count_in_flight).limited("xai")
    assert SubmitGate({"rep": ProviderLimits(submits_per_second=1.0)}, count_in_flight).limited("rep")
    assert SubmitGate({"rep": ProviderLimits(submits_per_second=1.0)}, count_in_flight).available("rep", {}) is None


async def test_the_submit_rate_is_a_token_bucket(clock: Clock) -> None:
    async def count_in_flight() -> dict[str, int]:
        return {}

    gate = SubmitGate(
        {"fast": ProviderLimits(submits_per_second=2.0), "slow": ProviderLimits(submits_per_second=0.5)},
        count_in_flight,
    )
    assert [(await gate.admit("fast")).allowed for _ in range(3)] == [True, True, False]  # a burst of one second
    refused = await gate.admit("fast")
    assert refused == Admission(
        False,
        retry_in=0.5,
        reason="queued: provider fast takes 2 submissions a second (submits_per_second in reelay.toml)",
    )
    clock.now += 0.25
    assert (await gate.admit("fast")).retry_in == 0.25  # half a token has come back
    clock.now += 0.25
    assert (await gate.admit("fast")).allowed and not (await gate.admit("fast")).allowed
    clock.now += 60  # idle: the bucket refills to its capacity, no further
    assert [(await gate.admit("fast")).allowed for _ in range(3)] == [True, True, False]
    assert (await gate.admit("slow")).allowed  # below one a second: still one submission at a time
    assert (await gate.admit("slow")).retry_in == 2.0
    await gate.release("slow", now_waiting=True)  # a rate-only provider keeps no in-flight count: no error


def test_limits_resolve_reelay_toml_over_the_type_defaults() -> None:
    resolved = resolve_limits(
        {"runway": "runway", "rw2": "runway", "rep": "replicate", "xai": "xai", "xai2": "xai"},
        {
            "rw2": ProviderLimits(max_in_flight=5),
            "rep": ProviderLimits(max_in_flight=4),
            "xai2": ProviderLimits(submits_per_second=3.0),
        },
    )
    assert resolved == {
        "runway": ProviderLimits(max_in_flight=1),
        "rw2": ProviderLimits(max_in_flight=5),
        "rep": ProviderLimits(max_in_flight=4, submits_per_second=10.0),
        "xai2": ProviderLimits(submits_per_second=3.0),
    }  # plain xai publishes no number and has no override: not gated
