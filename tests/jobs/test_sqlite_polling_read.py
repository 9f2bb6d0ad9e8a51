"""The polling read on an SQLite file: on the event loop's thread, never a hop; a locked database
falls back to the engine's read instead of blocking the loop."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from reelay.jobs.migrate import upgrade_database
from reelay.jobs.polling import SqliteRowReader
from reelay.jobs.store import JobStore, make_engine
from tests.jobs.conftest import new_job


async def _store(tmp_path: Path) -> tuple[JobStore, Path]:
    path = tmp_path / "jobs.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_database(url)
    store = JobStore(make_engine(url))
    await store.create(new_job("video_r"))
    return store, path


async def test_the_read_completes_without_suspending(tmp_path: Path) -> None:
    store, _ = await _store(tmp_path)
    try:
        assert isinstance(store._polling, SqliteRowReader)
        reading = store._polling.by_id("video_r")
        try:
            reading.send(None)  # runs the coroutine to its end in one step, or suspends
        except StopIteration as done:
            row = done.value
        else:
            reading.close()
            raise AssertionError("the SQLite polling read suspended (a hop to another thread)")
        assert row is not None and row.id == "video_r" and row.request["mode"] == "t2v"
    finally:
        await store.close()


async def test_a_read_sqlite_refuses_on_the_loop_is_made_through_the_engine(tmp_path: Path) -> None:
    """SQLite's refusals (busy past ``SQLITE_LOOP_BUSY_MS``, a file it cannot open) are
    ``OperationalError``s: the same read then takes the engine's path, which may wait."""
    store, _ = await _store(tmp_path)
    try:
        reader = store._polling
        assert isinstance(reader, SqliteRowReader)
        unreadable = tmp_path / "a-folder-not-a-database"
        unreadable.mkdir()
        reader._engine.dispose()
        reader._engine = create_engine(f"sqlite:///{unreadable}")
        job = await store.get("video_r")
        assert job is not None and job.prompt == "a fox"
    finally:
        await store.close()
