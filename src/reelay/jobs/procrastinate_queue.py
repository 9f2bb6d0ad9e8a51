"""Jobs dispatched through procrastinate, a PostgreSQL task queue (the scale-out mode; ADR 0001).

How a job travels:
- API process: ``JobStore.create`` inserts the row and, in the same transaction, defers the task
  ``reelay.run_job(video_id)`` (``ProcrastinateQueue.defer_in_transaction``): the row and its task
  commit together or not at all, so an accepted job always has a task.
- Worker process (``reelay worker``): procrastinate's worker runs the task, which is
  ``Worker.process(video_id)``: claim the lease, run, end the job. The job row stays the source of
  truth; a task that finds the job finished or leased by someone else just returns.
- Recovery: a SIGKILLed worker's tasks stay ``doing``; procrastinate's stalled-job retry (worker
  heartbeats) puts them back, and independently every worker's sweep re-defers jobs whose Reelay
  lease lapsed (``JobStore.claimable_ids``). ``queueing_lock=video_id`` keeps at most one waiting
  task per job, so the two safety nets never pile up duplicates.

Queues: one per (provider, model), so a worker limited by ``--providers`` / ``--models`` listens to
just those (e.g. a GPU box that serves only a local diffusion model).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterable

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from reelay.jobs.models import VideoJob
from reelay.jobs.store import JobStore

log = logging.getLogger("reelay.queue")

TASK_NAME = "reelay.run_job"
_MAX_QUEUE_NAME = 40  # pg_notify channels are "procrastinate_queue_v1#<queue>", at most 63 bytes
_SCHEMA_LOCK = 0x5EE1A8


def queue_name(provider: str, model: str) -> str:
    """The procrastinate queue of a job; long names are shortened by a stable hash."""
    name = f"{provider}/{model}"
    if len(name) <= _MAX_QUEUE_NAME:
        return name
    return f"{provider[:15]}/{hashlib.sha1(name.encode()).hexdigest()[:16]}"


def worker_queues(
    providers: Iterable[str], models: Iterable[str], *, only_providers: Iterable[str], only_models: Iterable[str]
) -> list[str] | None:
    """The queues a worker listens to: None (all) when unrestricted, else every allowed pair."""
    chosen_providers, chosen_models = sorted(set(only_providers)), sorted(set(only_models))
    if not chosen_providers and not chosen_models:
        return None
    return sorted(
        {queue_name(p, m) for p in (chosen_providers or sorted(set(providers))) for m in (chosen_models or models)}
    )


def conninfo(database_url: str) -> str:
    """The libpq URL of the SQLAlchemy database URL (procrastinate shares the job database)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgres"):
        raise ValueError(
            f"REELAY_QUEUE=procrastinate needs PostgreSQL; REELAY_DATABASE_URL is {url.drivername}. "
            "Set REELAY_DATABASE_URL=postgresql+psycopg://user@host/db, or REELAY_QUEUE=inprocess"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(database_url: str, *, pool_size: int = 4) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=pool_size)
    return procrastinate.App(connector=connector)


async def ensure_schema(database_url: str) -> bool:
    """Install procrastinate's tables once (True if this call did); processes starting together
    take turns under an advisory lock. Upgrades of procrastinate itself: docs/deploy.md."""
    schema = procrastinate.schema.SchemaManager.get_schema()
    async with await psycopg.AsyncConnection.connect(conninfo(database_url), autocommit=True) as connection:
        await connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = await (await connection.execute("SELECT to_regclass('procrastinate_jobs') IS NULL")).fetchone()
            if row is None or not row[0]:
                return False
            await connection.execute(schema.encode())
            return True
        finally:
            await connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


class ProcrastinateQueue:
    """The ``JobQueue`` seam over procrastinate.

    ``put`` makes sure a job has a waiting task (sweeps and retries use it); the ``get`` side does
    not exist here: procrastinate's own worker pulls tasks and calls ``Worker.process``.
    """

    def __init__(self, app: procrastinate.App) -> None:
        self.app = app
        self.store: JobStore | None = None
        self._deferred_with_row: set[str] = set()
        self._pending: set[asyncio.Task[bool]] = set()

    def bind(self, store: JobStore) -> None:
        """The store ``put`` reads a job's provider and model from (to pick its queue)."""
        self.store = store

    async def defer_in_transaction(self, connection: AsyncConnection, job: VideoJob) -> None:
        """``JobStore``'s create hook: the task INSERT runs on the row's own connection."""
        raw = await connection.get_raw_connection()
        deferrer = self.app.configure_task(
            TASK_NAME,
            queue=queue_name(job.provider, job.model),
            queueing_lock=job.id,
            connection=raw.driver_connection,
        )
        await deferrer.defer_async(video_id=job.id)
        self._deferred_with_row.add(job.id)

    def put(self, video_id: str) -> None:
        if video_id in self._deferred_with_row:  # the service's put right after create: already done
            self._deferred_with_row.discard(video_id)
            return
        task = asyncio.get_running_loop().create_task(self.defer(video_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def defer(self, video_id: str) -> bool:
        """Defer a task for an unfinished job unless one is already waiting; True if deferred."""
        assert self.store is not None, "bind(store) first"
        try:
            job = await self.store.get(video_id, include_deleted=True)
            if job is None or job.status.finished:
                return False
            deferrer = self.app.configure_task(
                TASK_NAME, queue=queue_name(job.provider, job.model), queueing_lock=video_id
            )
            await deferrer.defer_async(video_id=video_id)
        except AlreadyEnqueued:
            return False
        except Exception:  # the sweep finds the job again; the row is the truth
            log.exception("could not defer a job", extra={"job_id": video_id})
            return False
        return True

    async def get(self) -> str:
        raise RuntimeError("procrastinate pulls tasks itself (reelay worker); nothing reads this queue")

    def __contains__(self, video_id: object) -> bool:
        return False  # unknown here; put() is idempotent thanks to the queueing lock

    async def drain(self) -> None:
        """Wait for deferrals still in flight (on shutdown)."""
        if self._pending:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._pending, return_exceptions=True)
