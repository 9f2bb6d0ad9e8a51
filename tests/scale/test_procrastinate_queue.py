"""The procrastinate queue on a real PostgreSQL: a job row and its task commit together or not at all,
at most one task waits per job, stalled tasks of dead workers come back, and jobs run end to end."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncConnection

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.models import VideoJob
from reelay.jobs.procrastinate_queue import (
    ProcrastinateQueue,
    conninfo,
    ensure_schema,
    make_app,
    queue_name,
    worker_queues,
)
from reelay.jobs.procrastinate_worker import ProcrastinateDispatch
from reelay.jobs.store import JobStore, make_engine
from tests.jobs.test_store import new_job


def test_queue_names_fit_postgres_channels_and_are_stable() -> None:
    assert queue_name("local", "reelay-local") == "local/reelay-local"
    long = queue_name("openai_compatible", "grok-imagine-video-1.5-but-much-longer")
    assert len(long) <= 40 and long == queue_name("openai_compatible", "grok-imagine-video-1.5-but-much-longer")


def test_worker_queues_follow_the_limits() -> None:
    providers, models = ["local", "xai"], ["a", "b"]
    assert worker_queues(providers, models, only_providers=[], only_models=[]) is None
    assert worker_queues(providers, models, only_providers=["local"], only_models=[]) == ["local/a", "local/b"]
    assert worker_queues(providers, models, only_providers=[], only_models=["b"]) == ["local/b", "xai/b"]


def _tasks(database_url: str) -> list[tuple[str, str, str | None, dict[str, str]]]:
    with psycopg.connect(conninfo(database_url)) as connection:
        rows = connection.execute(
            "SELECT queue_name, status::text, queueing_lock, args FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[str]:
    upgrade_database(postgres_url)
    await ensure_schema(postgres_url)
    assert not await ensure_schema(postgres_url)  # once only
    with psycopg.connect(conninfo(postgres_url)) as connection:
        connection.execute("DELETE FROM procrastinate_jobs; DELETE FROM procrastinate_workers; DELETE FROM videos")
    yield postgres_url


@pytest.fixture
async def queue(database: str) -> AsyncIterator[ProcrastinateQueue]:
    app = make_app(database)
    await app.open_async()
    queue = ProcrastinateQueue(app)
    yield queue
    await app.close_async()


async def test_the_row_and_its_task_commit_together(database: str, queue: ProcrastinateQueue) -> None:
    store = JobStore(make_engine(database), on_create=queue.defer_in_transaction)
    queue.bind(store)
    job = await store.create(new_job("video_tx"))
    assert _tasks(database) == [("local/reelay-local", "todo", "video_tx", {"video_id": "video_tx"})]
    queue.put(job.id)  # the service's put right after create: already deferred, nothing more
    await queue.drain()
    assert len(_tasks(database)) == 1
    await store.close()


async def test_a_failed_create_leaves_neither_row_nor_task(database: str, queue: ProcrastinateQueue) -> None:
    async def defer_then_fail(connection: AsyncConnection, job: VideoJob) -> None:
        await queue.defer_in_transaction(connection, job)
        raise RuntimeError("the transaction fails after the task was deferred")

    store = JobStore(make_engine(database), on_create=defer_then_fail)
    with pytest.raises(RuntimeError):
        await store.create(new_job("video_rollback"))
    assert await store.get("video_rollback") is None and _tasks(database) == []
    await store.close()


async def test_at_most_one_task_waits_per_job(database: str, queue: ProcrastinateQueue) -> None:
    store = JobStore(make_engine(database))
    queue.bind(store)
    await store.create(new_job("video_sweep"))
    assert await queue.defer("video_sweep")  # a job without a task (e.g. created before a crash) gets one
    assert not await queue.defer("video_sweep")  # one is already waiting: the queueing lock refuses
    assert not await queue.defer("video_missing")
    await store.claim("video_sweep", "w1", 30)
    await store.fail("video_sweep", "w1", "upstream_error", "done")
    with psycopg.connect(conninfo(database)) as connection:
        connection.execute("DELETE FROM procrastinate_jobs")
    assert not await queue.defer("video_sweep")  # finished jobs are never queued again
    await store.close()


async def test_tasks_of_a_dead_worker_are_retried(database: str) -> None:
    dispatch = ProcrastinateDispatch(database, run_workers=False, queues=None, concurrency=1, sweep_seconds=60)
    store = JobStore(make_engine(database), on_create=dispatch.on_create)
    await dispatch.open(store)
    await store.create(new_job("video_stalled"))
    manager = dispatch.app.job_manager
    worker_id = await manager.register_worker()
    assert await manager.fetch_job(queues=None, worker_id=worker_id) is not None  # now "doing" on that worker
    with psycopg.connect(conninfo(database)) as connection:  # the worker died: its heartbeat stopped
        connection.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
    assert await dispatch.retry_stalled() == 1
    assert [status for _, status, _, _ in _tasks(database)] == ["todo"]
    await dispatch.app.close_async()
    await store.close()


def test_a_job_runs_end_to_end_through_procrastinate(database: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database,
        queue="procrastinate",
        run_workers=True,
        local_render_processes=1,
        sweep_seconds=1,
    )
    with TestClient(create_app(settings)) as http:
        body = {"model": "reelay-local", "prompt": "a red fox", "seconds": "1", "size": "320x180"}
        created = http.post("/v1/videos", json=body)
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        deadline = time.monotonic() + 60
        while (status := http.get(f"/v1/videos/{video_id}").json()["status"]) not in ("completed", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status == "completed"
        assert http.get(f"/v1/videos/{video_id}/content").headers["content-type"] == "video/mp4"
