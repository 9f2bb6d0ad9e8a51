"""The job store against real SQLite and real PostgreSQL databases built by the real migrations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from reelay.jobs.migrate import upgrade_database
from reelay.jobs.models import JobStatus, NewJob, VideoOutput, VideoRow
from reelay.jobs.store import JobStore, make_engine


def new_job(video_id: str, owner: str | None = None) -> NewJob:
    return NewJob(
        id=video_id,
        owner=owner,
        model="reelay-local",
        prompt="a fox",
        size="1280x720",
        seconds="5",
        n=1,
        provider="local",
        executed_model="reelay-local",
        request={"mode": "t2v"},
        report=[],
        cost_estimate=0.0,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    """The same store on SQLite (a file per test) and on PostgreSQL (one throwaway database per run)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_database(url)
    upgrade_database(url)  # idempotent: every start runs it
    store = JobStore(make_engine(url))
    async with store.engine.begin() as connection:  # PostgreSQL tests share a database: start empty
        await connection.execute(delete(VideoRow))
    yield store
    await store.close()


async def test_create_then_get_round_trips(store: JobStore) -> None:
    created = await store.create(new_job("video_a"))
    fetched = await store.get("video_a")
    assert created.status is JobStatus.QUEUED and fetched is not None
    assert fetched.prompt == "a fox" and fetched.request == {"mode": "t2v"} and fetched.progress == 0
    assert await store.get("video_missing") is None


async def test_owner_scoping(store: JobStore) -> None:
    await store.create(new_job("video_a", owner="key1"))
    assert await store.get("video_a", owner="key2", any_owner=False) is None
    assert await store.get("video_a", owner="key1", any_owner=False) is not None
    page, _ = await store.page(owner="key2", any_owner=False)
    assert page == []


async def test_list_cursor_pagination_both_orders(store: JobStore) -> None:
    for i in range(5):
        await store.create(new_job(f"video_{i}"))
        await asyncio.sleep(0.002)
    first, more = await store.page(limit=2, order="desc")
    assert [j.id for j in first] == ["video_4", "video_3"] and more
    second, more = await store.page(limit=2, order="desc", after="video_3")
    assert [j.id for j in second] == ["video_2", "video_1"] and more
    last, more = await store.page(limit=2, order="desc", after="video_1")
    assert [j.id for j in last] == ["video_0"] and not more
    ascending, _ = await store.page(limit=10, order="asc", after="video_1")
    assert [j.id for j in ascending] == ["video_2", "video_3", "video_4"]


async def test_only_one_of_racing_workers_claims(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    results = await asyncio.gather(*(store.claim("video_a", f"w{i}", 30) for i in range(8)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].status is JobStatus.IN_PROGRESS and winners[0].attempts == 1


async def test_lapsed_lease_can_be_claimed_again(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    assert await store.claim("video_a", "w1", 0.05) is not None
    assert await store.claim("video_a", "w2", 30) is None
    assert "video_a" not in await store.claimable_ids()
    await asyncio.sleep(0.1)
    assert "video_a" in await store.claimable_ids()
    again = await store.claim("video_a", "w2", 30)
    assert again is not None and again.attempts == 2
    assert not await store.heartbeat("video_a", "w1", 30)  # w1 lost its lease
    assert await store.heartbeat("video_a", "w2", 30)


async def test_runs_are_durable_and_completion_is_final(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 30)
    await store.record_runs("video_a", "w1", [{"index": 0, "upstream_id": "up_1"}])
    assert (await store.get("video_a")).runs == [{"index": 0, "upstream_id": "up_1"}]  # type: ignore[union-attr]
    output = VideoOutput(
        index=0, key="videos/video_a/0.mp4", width=1280, height=720, seconds=5.0, has_audio=True, bytes=1000
    )
    assert await store.complete("video_a", "w1", [output], retention_seconds=60)
    done = await store.get("video_a")
    assert done is not None and done.status is JobStatus.COMPLETED and done.progress == 100
    assert done.outputs == (output,) and done.expires_at is not None
    assert done.expires_at == pytest.approx(done.completed_at + 60)  # type: ignore[operator]
    assert await store.claim("video_a", "w2", 30) is None
    assert "video_a" not in await store.unfinished_ids()


async def test_a_stale_worker_cannot_write_after_losing_the_lease(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 0.01)
    await asyncio.sleep(0.05)
    await store.claim("video_a", "w2", 30)
    assert not await store.fail("video_a", "w1", "upstream_error", "late")
    assert not await store.set_progress("video_a", "w1", 50)
    job = await store.get("video_a")
    assert job is not None and job.status is JobStatus.IN_PROGRESS


async def test_cancel_of_queued_job_is_immediate_and_delete_hides_it(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    job = await store.request_cancel("video_a", delete_after=True)
    assert job is not None and job.status is JobStatus.CANCELLED
    assert await store.get("video_a") is None  # deleted: invisible at once
    assert "video_a" in await store.purgeable_ids()
    await store.purge("video_a")
    assert await store.purgeable_ids() == []


async def test_cancel_of_running_job_is_a_request_for_the_worker(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 30)
    job = await store.request_cancel("video_a", delete_after=False)
    assert job is not None and job.status is JobStatus.IN_PROGRESS and job.cancel_requested
    assert await store.is_cancel_requested("video_a")


async def test_expired_jobs_become_purgeable(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 30)
    await store.complete("video_a", "w1", [], retention_seconds=0.01)
    assert "video_a" in await store.purgeable_ids(now=time.time() + 1)
