"""The job store against real SQLite and real PostgreSQL databases built by the real migrations."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

from reelay.jobs.models import JobStatus, Stage, VideoOutput, VideoRow
from reelay.jobs.spec import RunRecord
from reelay.jobs.store import JobStore, PollUpdate, make_engine
from tests.jobs.conftest import new_job
from tests.postgres import ADMIN_CONNINFO


async def _set(store: JobStore, video_id: str, **values: object) -> None:
    """Write columns directly: the clock moved on (a lease or a due time has passed) without a sleep
    that a slow machine could overrun."""
    async with store.engine.begin() as connection:
        await connection.execute(update(VideoRow).where(VideoRow.id == video_id).values(**values))


async def test_create_then_get_round_trips(store: JobStore) -> None:
    created = await store.create(new_job("video_a"))
    fetched = await store.get("video_a")
    assert created.status is JobStatus.QUEUED and fetched is not None
    assert fetched.prompt == "a fox" and fetched.spec.mode == "t2v" and fetched.progress == 0
    assert await store.get("video_missing") is None


async def test_owner_lineage_and_failure_reach_the_job(store: JobStore) -> None:
    note = {"field": "size", "requested": "1920x1080", "sent": "1280x720"}
    await store.create(replace(new_job("video_b", owner="key1"), remixed_from_video_id="video_a", report=[note]))
    job = await store.get("video_b")
    assert job is not None and job.owner == "key1" and job.remixed_from_video_id == "video_a"
    assert job.report == [note] and job.started_at is None
    before = time.time()
    claimed = await store.claim("video_b", "w1", 30)
    assert claimed is not None and claimed.started_at is not None and claimed.started_at >= before
    assert await store.fail("video_b", "w1", "upstream_error", "the provider refused")
    failed = await store.get("video_b")
    assert failed is not None and failed.status is JobStatus.FAILED and failed.status.finished
    assert failed.error_code == "upstream_error" and failed.error_message == "the provider refused"
    assert {status for status in JobStatus if status.finished} == {"completed", "failed", "cancelled", "expired"}


async def test_polling_read_and_orm_read_agree_on_every_field(store: JobStore) -> None:
    """``get`` reads through its own path (a psycopg pool on PostgreSQL); the list reads through the
    ORM. A finished job with JSON columns, floats and flags must come back identical from both."""
    await store.create(new_job("video_a", owner="key1"))
    await store.claim("video_a", "w1", 30)
    await store.record_runs("video_a", "w1", [RunRecord(index=0, upstream_id="up_1", submitted_at=12.5)])
    output = VideoOutput(
        index=0,
        key="videos/video_a/0.mp4",
        width=1280,
        height=720,
        seconds=5.0,
        has_audio=True,
        bytes=123_456,
        thumbnail_key="videos/video_a/0.jpg",
    )
    assert await store.complete("video_a", "w1", [output], retention_seconds=3600)
    polled = await store.get("video_a")
    listed, _ = await store.page()
    assert polled is not None and polled == listed[0]
    assert polled.outputs == (output,) and polled.runs[0].submitted_at == 12.5
    assert polled.status is JobStatus.COMPLETED and isinstance(polled.expires_at, float)


async def test_owner_scoping(store: JobStore) -> None:
    await store.create(new_job("video_a", owner="key1"))
    assert await store.get("video_a", owner="key2", any_owner=False) is None
    assert await store.get("video_a", owner="key1", any_owner=False) is not None
    page, _ = await store.page(owner="key2", any_owner=False)
    assert page == []


async def test_list_cursor_pagination_both_orders(store: JobStore) -> None:
    for i in range(5):
        await store.create(new_job(f"video_{i}"))
    for i in range(5):  # distinct creation times, whatever the clock's resolution
        await _set(store, f"video_{i}", created_at=1000.0 + i)
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
    assert await store.claim("video_a", "w1", 30) is not None
    assert await store.claim("video_a", "w2", 30) is None
    assert "video_a" not in await store.claimable_ids()
    assert "video_a" in await store.claimable_ids(now=time.time() + 31)  # once the lease has passed
    # The lease passes (w1 stalled): its expiry is moved into the past rather than slept through, so
    # a slow machine cannot make the checks above fall outside a short lease.
    await _set(store, "video_a", lease_expires_at=time.time() - 1)
    assert "video_a" in await store.claimable_ids()
    again = await store.claim("video_a", "w2", 30)
    assert again is not None and again.attempts == 2
    assert await store.heartbeat_many(["video_a"], "w1", 30) == set()  # w1 lost its lease
    assert await store.heartbeat_many(["video_a"], "w2", 30) == {"video_a"}


async def test_one_heartbeat_renews_every_lease_the_worker_holds(store: JobStore) -> None:
    ids = [f"video_{i:04d}" for i in range(600)]  # more than one IN-list chunk
    for video_id in ids:
        await store.create(new_job(video_id))
        await store.claim(video_id, "w1", 1)
    await store.claim("video_x", "w1", 1)  # does not exist: not claimed, not renewed
    await store.create(new_job("video_other"))
    await store.claim("video_other", "w2", 1)
    before = time.time()
    renewed = await store.heartbeat_many([*ids, "video_other", "video_x"], "w1", 60)
    assert renewed == set(ids)
    assert all(job.lease_expires_at >= before + 59 for job in [await store.get(i) for i in ids[::97]])  # type: ignore[union-attr,operator]
    assert (await store.get("video_other")).lease_owner == "w2"  # type: ignore[union-attr]


async def test_runs_are_durable_and_completion_is_final(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 30)
    await store.record_runs("video_a", "w1", [RunRecord(index=0, upstream_id="up_1")])
    assert (await store.get("video_a")).runs == (RunRecord(index=0, upstream_id="up_1"),)  # type: ignore[union-attr]
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
    await store.create(new_job("video_b"))
    assert await store.cancel_requested_among(["video_a", "video_b", "video_gone"]) == {"video_a", "video_gone"}


async def test_expired_jobs_become_purgeable(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 30)
    await store.complete("video_a", "w1", [], retention_seconds=0.01)
    assert "video_a" in await store.purgeable_ids(now=time.time() + 1)


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)  # SQLite has no server to drop connections
async def test_polling_survives_the_server_dropping_every_connection(store: JobStore) -> None:
    """No pre-ping: a dropped connection fails its first use. The polling read retries once on a fresh
    connection and renews both pools (its own and SQLAlchemy's), so the writes after it work too."""
    await store.create(new_job("video_a"))
    await asyncio.gather(*(store.get("video_a") for _ in range(4)))  # several pooled connections
    database = store.engine.url.database
    with psycopg.connect(ADMIN_CONNINFO, autocommit=True) as admin:  # what a server restart does to us
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
    job = await store.get("video_a")
    assert job is not None and job.id == "video_a"
    assert await store.claim("video_a", "w1", 30) is not None  # the pool was renewed: writes work too


async def test_a_waiting_job_holds_nothing_and_is_polled_when_due(store: JobStore) -> None:
    """After ``begin_wait`` the job has no lease and is not a worker's (not claimable); the relay
    leases it only once ``due_at`` has come, and writes the batch back releasing the lease."""
    await store.create(new_job("video_a"))
    assert await store.claim("video_a", "w1", 30, stages=(Stage.SUBMIT,), start=False) is not None
    runs = [RunRecord(index=0, upstream_id="up_1", phase="running")]
    assert await store.begin_wait("video_a", "w1", runs, due_at=time.time() + 60)
    waiting = await store.get("video_a")
    assert waiting is not None and waiting.stage is Stage.WAIT and waiting.lease_owner is None
    assert waiting.status is JobStatus.IN_PROGRESS
    assert "video_a" not in await store.claimable_ids()
    assert await store.claim_due_polls("relay1", 30, limit=10) == []  # not due yet
    await _set(store, "video_a", due_at=time.time() - 1)  # the poll's time has come
    [leased] = await store.claim_due_polls("relay1", 30, limit=10)
    assert leased.id == "video_a" and leased.runs[0].upstream_id == "up_1"
    assert (await store.get("video_a")).lease_owner == "relay1"  # type: ignore[union-attr]
    assert await store.claim_due_polls("relay2", 30, limit=10) == []  # leased: nobody polls it twice
    runs[0].progress = 0.5
    await store.save_polls("relay1", [PollUpdate("video_a", runs, 47, Stage.WAIT, time.time() + 60)])
    after = await store.get("video_a")
    assert after is not None and after.lease_owner is None and after.progress == 47
    assert after.runs[0].progress == 0.5 and after.due_at is not None and after.due_at > time.time() + 50


async def test_racing_relays_never_lease_the_same_job(store: JobStore) -> None:
    ids = [f"video_{i:03d}" for i in range(60)]
    for video_id in ids:
        await store.create(new_job(video_id))
        await store.claim(video_id, "w1", 30, stages=(Stage.SUBMIT,), start=False)
        await store.begin_wait(video_id, "w1", [RunRecord(index=0, upstream_id=f"up_{video_id}")], due_at=0.0)
    batches = await asyncio.gather(*(store.claim_due_polls(f"relay{i}", 30, limit=7) for i in range(12)))
    leased = [job.id for batch in batches for job in batch]
    assert len(leased) == len(set(leased))  # nobody leased a job another relay holds
    assert len(leased) == min(60, 12 * 7)


async def test_a_scheduled_retry_waits_for_its_due_time(store: JobStore) -> None:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 30, stages=(Stage.SUBMIT,), start=False, count_attempt=False)
    await store.schedule(
        "video_a",
        "w1",
        stage=Stage.SUBMIT,
        due_at=time.time() + 60,
        attempt_used=True,
        detail="queued: a provider limit",
    )
    job = await store.get("video_a")
    assert job is not None and job.attempts == 1 and job.status_detail == "queued: a provider limit"
    assert "video_a" not in await store.claimable_ids() and await store.due_jobs() == []
    await _set(store, "video_a", due_at=time.time() - 1)  # the retry's time has come
    [due] = await store.due_jobs()
    assert due.video_id == "video_a" and due.stage is Stage.SUBMIT
    assert await store.take_due(["video_a"]) == ["video_a"]
    assert await store.take_due(["video_a"]) == []  # one taker only
    assert "video_a" in await store.claimable_ids()


async def test_old_rows_without_a_spec_version_still_load(store: JobStore) -> None:
    """A job stored before the typed spec (a plain dict, no version, runs as dicts) loads."""
    await store.create(new_job("video_a"))
    async with store.engine.begin() as connection:
        from sqlalchemy import text

        await connection.execute(
            text("UPDATE videos SET request = :r, runs = :u WHERE id = 'video_a'"),
            {
                "r": '{"mode": "i2v", "prompt": "old", "width": 640, "height": 360, "seconds": 4.0, "emulate_n": true}',
                "u": '[{"index": 0, "upstream_id": "up_9", "submit_key": "k", "submitted_at": 3.5}]',
            },
        )
    job = await store.get("video_a")
    assert job is not None and job.spec.mode == "i2v" and job.spec.width == 640 and job.spec.version == 1
    assert job.runs[0].upstream_id == "up_9" and job.runs[0].phase == "pending"


async def test_a_poll_that_changed_nothing_a_client_sees_sends_no_event(store: JobStore) -> None:
    """An event is a NOTIFY on PostgreSQL: one per unchanged poll (10,000 jobs, 1,000 polls a second)
    cost the database more than the polls. Only a change of progress (or stage) is announced."""
    heard: list[str] = []
    watched = JobStore(store.engine, on_change=heard.append)
    await watched.create(new_job("video_a"))
    await watched.claim("video_a", "w1", 30, stages=(Stage.SUBMIT,), start=False)
    runs = [RunRecord(index=0, upstream_id="up_1", phase="running")]
    await watched.begin_wait("video_a", "w1", runs, due_at=0.0)
    heard.clear()
    [leased] = await watched.claim_due_polls("relay1", 30, limit=10)
    assert leased.progress == 0
    await watched.save_polls("relay1", [PollUpdate("video_a", runs, 0, Stage.WAIT, 0.0, visible=False)])
    assert heard == []
    [leased] = await watched.claim_due_polls("relay1", 30, limit=10)
    await watched.save_polls("relay1", [PollUpdate("video_a", runs, 40, Stage.WAIT, 0.0)])
    assert heard == ["video_a"]
    [leased] = await watched.claim_due_polls("relay1", 30, limit=10)
    assert leased.progress == 40  # what the relay compares the next poll's progress with


async def test_a_full_polling_pool_fails_fast_and_says_why(postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """A read that finds every polling connection busy gives up after the pool's timeout with a
    pool timeout, once: nothing was dropped, so the pools are not renewed and the read is not
    retried (in a scale-out stall the retry doubled every wait and renewed the store's pool for each
    waiting read). The warning carries the pool's counters."""
    from reelay.jobs.migrate import upgrade_database
    from reelay.jobs.models import VideoRow
    from reelay.jobs.polling_psycopg import PsycopgRowReader

    upgrade_database(postgres_url)
    engine = make_engine(postgres_url)
    by_id = select(VideoRow).where(VideoRow.id == bindparam("video_id"))
    reader = PsycopgRowReader(engine, by_id, max_size=1, timeout=0.5)
    try:
        assert await reader.by_id("video_missing") is None  # opens the pool (min size 1 here)
        async with reader._pool.connection():
            started = time.monotonic()
            with pytest.raises(SQLAlchemyTimeout, match="no free connection"):
                await reader.by_id("video_missing")
            assert time.monotonic() - started < 5  # one wait of 0.5 s, not a wait, a renewal and another
        assert "polling pool timed out" in caplog.text and "requests_waiting" in str(
            [getattr(record, "pool", None) for record in caplog.records]
        )
        assert await reader.by_id("video_missing") is None  # free again: reads work
    finally:
        await reader.close()
        await engine.dispose()
