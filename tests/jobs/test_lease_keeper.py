"""The lease keeper: one query per interval for all running jobs, and the right reason to stop one."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event

from reelay.jobs.lease_keeper import LeaseKeeper
from reelay.jobs.store import JobStore
from tests.jobs.conftest import new_job


async def _running(store: JobStore, ids: list[str], worker: str) -> dict[str, asyncio.Task[None]]:
    runners = {}
    for video_id in ids:
        await store.create(new_job(video_id))
        assert await store.claim(video_id, worker, 30) is not None
        runners[video_id] = asyncio.create_task(asyncio.sleep(3600))
    return runners


def _count_statements(store: JobStore) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
            seen.append(statement)

    for engine in store.statement_engines:
        event.listen(engine, "before_cursor_execute", record)
    return seen


async def test_a_round_costs_two_statements_whatever_the_number_of_jobs(store: JobStore) -> None:
    ids = [f"video_{i:03d}" for i in range(60)]
    runners = await _running(store, ids, "w1")
    keeper = LeaseKeeper(store, "w1", lease_seconds=30, check_interval=3600)  # rounds driven by hand
    for video_id, runner in runners.items():
        keeper.watch(video_id, runner)
    statements = _count_statements(store)
    keeper._last_beat -= 11  # a third of the lease has passed: this round renews as well
    await keeper.tick()
    assert len(statements) == 2, statements  # one cancellation check + one renewal for 60 jobs
    assert not any(r.done() for r in runners.values())
    for runner in runners.values():
        runner.cancel()
    await keeper.stop()


async def test_cancelled_and_stolen_jobs_are_stopped_with_their_reason(store: JobStore) -> None:
    runners = await _running(store, ["video_a", "video_b", "video_c"], "w1")
    keeper = LeaseKeeper(store, "w1", lease_seconds=30, check_interval=3600)
    watches = {video_id: keeper.watch(video_id, runner) for video_id, runner in runners.items()}
    await store.request_cancel("video_a", delete_after=False)
    await store.release("video_b", "w1")
    assert await store.claim("video_b", "w2", 30) is not None  # another worker took it over
    keeper._last_beat -= 11
    await keeper.tick()
    await asyncio.sleep(0)
    assert watches["video_a"].cancelled and runners["video_a"].cancelled()
    assert watches["video_b"].lease_lost and runners["video_b"].cancelled()
    assert not runners["video_c"].done() and not watches["video_c"].cancelled
    runners["video_c"].cancel()
    await keeper.stop()


async def _lease_expiry(store: JobStore, video_id: str) -> float:
    job = await store.get(video_id)
    assert job is not None and job.lease_owner == "w1" and job.lease_expires_at is not None
    return job.lease_expires_at


async def test_the_loop_renews_leases_on_its_own_and_stops_when_idle(store: JobStore) -> None:
    """Waits on what the loop does (the stored lease moves forward, twice; the task ends), never on
    a window: a starved event loop makes it slower, not wrong. The deadline only bounds a hang."""
    await store.create(new_job("video_a"))
    assert await store.claim("video_a", "w1", 1.0) is not None
    runner = asyncio.create_task(asyncio.sleep(3600))
    keeper = LeaseKeeper(store, "w1", lease_seconds=1.0, check_interval=0.02)  # renews every 1/3 s
    keeper.watch("video_a", runner)
    expiry = await _lease_expiry(store, "video_a")
    deadline = time.monotonic() + 60
    for _ in range(2):  # two renewals nobody asked for: the loop keeps beating on its own
        while (renewed := await _lease_expiry(store, "video_a")) <= expiry:
            assert time.monotonic() < deadline, "the keeper never renewed the lease"
            await asyncio.sleep(0.05)
        expiry = renewed
    task = keeper._task
    assert task is not None
    keeper.unwatch("video_a")
    await asyncio.wait_for(task, 60)  # the loop ends by itself once nothing is watched
    assert keeper._task is None and not runner.done()
    runner.cancel()
