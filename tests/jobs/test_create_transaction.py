"""A create's one transaction: the job row and its request's own rows (admission, idempotency key,
billing hold, webhook target) commit together or not at all, on SQLite (the writer thread, one hop)
and on PostgreSQL (the async engine, the hook through ``run_sync``)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from reelay.jobs.models import VideoJob, VideoRow
from reelay.jobs.spec import RunRecord
from reelay.jobs.sqlite_writer import SqliteWriter, file_database
from reelay.jobs.store import JobStore, make_engine
from tests.jobs.conftest import new_job


class Refused(Exception):
    pass


async def _rows(store: JobStore) -> int:
    async with store.engine.connect() as connection:
        return int(await connection.scalar(select(func.count(VideoRow.id))) or 0)


async def test_the_created_job_is_the_job_read_back(store: JobStore) -> None:
    """``create`` answers without reading its row back: what it answers must be what a read gives."""
    job = new_job("video_same", owner="key_1")
    job = type(job)(**{**job.__dict__, "runs": [RunRecord(index=0, provider="xai", model="grok-imagine-video")]})
    created = await store.create(job)
    assert created == await store.get("video_same")


async def test_a_refusing_hook_leaves_no_job(store: JobStore) -> None:
    seen: list[tuple[str, bool]] = []

    def refuse(connection: Connection, job: VideoJob) -> None:
        present = connection.scalar(select(func.count(VideoRow.id)).where(VideoRow.id == job.id))
        seen.append((job.id, present == 1))  # the row is visible inside its own transaction
        raise Refused

    with pytest.raises(Refused):
        await store.create(new_job("video_refused"), on_insert=refuse)
    assert seen == [("video_refused", True)]
    assert await store.get("video_refused") is None and await _rows(store) == 0


async def test_on_sqlite_the_whole_transaction_runs_on_the_writer_thread(tmp_path: Path) -> None:
    from reelay.jobs.migrate import upgrade_database

    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    upgrade_database(url)
    store = JobStore(make_engine(url))
    threads: list[str] = []
    try:
        await store.create(
            new_job("video_t"), on_insert=lambda connection, job: threads.append(threading.current_thread().name)
        )
        assert threads and threads[0].startswith("reelay-sqlite-writer")
        assert (await store.get("video_t")) is not None
    finally:
        await store.close()


def test_only_an_sqlite_file_gets_a_writer() -> None:
    from sqlalchemy.engine import make_url

    assert file_database(make_url("sqlite+aiosqlite:////tmp/x.db"))
    assert not file_database(make_url("sqlite+aiosqlite:///:memory:"))
    assert not file_database(make_url("sqlite+aiosqlite://"))
    assert not file_database(make_url("postgresql+psycopg://localhost/reelay"))


async def test_the_writer_commits_what_returns_and_rolls_back_what_raises(tmp_path: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from reelay.jobs.store import _sqlite_pragmas

    writer = SqliteWriter(make_url(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"), _sqlite_pragmas)
    try:
        await writer.transaction(lambda c: c.execute(text("CREATE TABLE t (v INTEGER)")))
        assert await writer.transaction(lambda c: c.execute(text("INSERT INTO t VALUES (1)")).rowcount) == 1

        def insert_then_fail(connection: Connection) -> None:
            connection.execute(text("INSERT INTO t VALUES (2)"))
            raise Refused

        with pytest.raises(Refused):
            await writer.transaction(insert_then_fail)
        values = await writer.transaction(lambda c: list(c.scalars(text("SELECT v FROM t"))))
        assert values == [1]
        journal = await writer.transaction(lambda c: c.scalar(text("PRAGMA journal_mode")))
        assert journal == "wal"  # the store's pragmas apply to the writer's connection too
    finally:
        writer.close()
