"""The durable job store: every state change is one short transaction.

Guarantees the worker relies on:
- ``claim`` is atomic: of several workers racing for one job, exactly one gets a lease.
- a lease lapses unless renewed by ``heartbeat``; a lapsed job can be claimed again.
- ``record_runs`` is called the moment a provider's request id is known, so recovery polls that id
  instead of submitting again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Literal, Protocol

from sqlalchemy import and_, bindparam, delete, event, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine

from reelay.jobs.models import UNFINISHED, JobStatus, NewJob, VideoJob, VideoOutput, VideoRow
from reelay.jobs.polling import POLLING_UNAVAILABLE, row_reader

# The database, not the request, failed: unreachable, restarted under us, or every connection busy.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, *POLLING_UNAVAILABLE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout so API and workers share it safely.

    A server database keeps ``pool_size`` connections open and allows few extra: an overflow
    connection is closed on return, and a PostgreSQL connection costs a process fork to open, so a
    pool smaller than the steady load turns every burst into connection churn. No pre-ping: it is a
    round trip per checkout (a fifth of a retrieve). A connection the server dropped fails its first
    use instead; SQLAlchemy then invalidates the whole pool, ``JobStore.get`` retries once, workers
    leave the job for a later sweep, and other requests answer 503 ``database_unavailable``.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
    else:
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=max(2, pool_size // 4), pool_recycle=3600
        )
    if url.startswith("sqlite"):
        sync_engine: Engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)
    return engine


def _chunks(ids: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    """Split an ``IN (…)`` list so no statement carries more bound parameters than SQLite allows."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


_VIDEOS = VideoRow.__table__
_BY_ID = select(_VIDEOS).where(_VIDEOS.c.id == bindparam("video_id"))


class CreateHook(Protocol):
    """Runs inside the transaction that inserts a job (e.g. to defer its queue task atomically)."""

    async def __call__(self, connection: AsyncConnection, job: VideoJob) -> None: ...


class JobStore:
    def __init__(self, engine: AsyncEngine, *, on_create: CreateHook | None = None) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # Reads need no transaction: on PostgreSQL autocommit makes a read one round trip, where a
        # transaction adds BEGIN and the pool's ROLLBACK on return (half a retrieve's cost). On SQLite
        # switching the mode per checkout costs extra hops to aiosqlite's thread: reads stay as they are.
        sqlite = engine.dialect.name == "sqlite"
        self._read_engine = engine if sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        self._reads = async_sessionmaker(self._read_engine, expire_on_commit=False)
        self._polling = row_reader(engine, self._read_engine, _BY_ID)
        self._on_create = on_create

    async def close(self) -> None:
        await self._polling.close()
        await self.engine.dispose()

    # -- create and read -------------------------------------------------------------------------

    async def create(self, job: NewJob, *, on_insert: CreateHook | None = None) -> VideoJob:
        """Insert the job. ``on_insert`` runs in the same transaction (admission checks, idempotency
        key, webhook target): if it raises, the job was never created."""
        now = time.time()
        row = VideoRow(
            **asdict(job),
            status=JobStatus.QUEUED.value,
            progress=0,
            created_at=now,
            updated_at=now,
            outputs=[],
            attempts=0,
            cancel_requested=False,
            deleted=False,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            if on_insert is not None:
                await session.flush()
                await on_insert(await session.connection(), VideoJob.from_row(row))
            if self._on_create is not None:  # the row and its queue task commit together, or neither
                await session.flush()
                await self._on_create(await session.connection(), VideoJob.from_row(row))
        return VideoJob.from_row(row)

    async def get(
        self, video_id: str, *, owner: str | None = None, any_owner: bool = True, include_deleted: bool = False
    ) -> VideoJob | None:
        """The job, or None if it does not exist, was deleted, or belongs to another owner.

        The polling path (``reelay.jobs.polling``): a connection the server dropped (a database
        restart) is retried once on a fresh one, so clients polling through a restart see no error."""
        row = await self._polling.by_id(video_id)
        if row is None or (row.deleted and not include_deleted):
            return None
        if not any_owner and row.owner != owner:
            return None
        return VideoJob.from_row(row)

    async def page(
        self,
        *,
        owner: str | None = None,
        any_owner: bool = True,
        after: str | None = None,
        limit: int = 20,
        order: Literal["asc", "desc"] = "desc",
    ) -> tuple[list[VideoJob], bool]:
        """One page in (created_at, id) order, and whether more follow. ``after`` is an id cursor."""
        query = select(VideoRow).where(VideoRow.deleted.is_(False))
        if not any_owner:
            query = query.where(VideoRow.owner == owner)
        if after is not None:
            async with self._reads() as session:
                cursor = await session.get(VideoRow, after)
            if cursor is None:
                return [], False
            if order == "desc":
                query = query.where(
                    or_(
                        VideoRow.created_at < cursor.created_at,
                        and_(VideoRow.created_at == cursor.created_at, VideoRow.id < cursor.id),
                    )
                )
            else:
                query = query.where(
                    or_(
                        VideoRow.created_at > cursor.created_at,
                        and_(VideoRow.created_at == cursor.created_at, VideoRow.id > cursor.id),
                    )
                )
        if order == "desc":
            query = query.order_by(VideoRow.created_at.desc(), VideoRow.id.desc())
        else:
            query = query.order_by(VideoRow.created_at.asc(), VideoRow.id.asc())
        query = query.limit(limit + 1)
        async with self._reads() as session:
            rows = (await session.scalars(query)).all()
        jobs = [VideoJob.from_row(r) for r in rows[:limit]]
        return jobs, len(rows) > limit

    async def unfinished_ids(self) -> list[str]:
        """Jobs that must still end completed or failed, oldest first (recovery on start)."""
        query = select(VideoRow.id).where(VideoRow.status.in_(UNFINISHED)).order_by(VideoRow.created_at.asc())
        async with self._reads() as session:
            return list((await session.scalars(query)).all())

    async def claimable_ids(self, *, now: float | None = None, limit: int = 100) -> list[str]:
        """Unfinished jobs nobody holds a live lease on (a crashed worker's jobs included)."""
        now = time.time() if now is None else now
        query = (
            select(VideoRow.id)
            .where(
                VideoRow.status.in_(UNFINISHED),
                or_(VideoRow.lease_expires_at.is_(None), VideoRow.lease_expires_at < now),
            )
            .order_by(VideoRow.created_at.asc())
            .limit(limit)
        )
        async with self._reads() as session:
            return list((await session.scalars(query)).all())

    # -- leases ----------------------------------------------------------------------------------

    async def claim(self, video_id: str, worker: str, lease_seconds: float) -> VideoJob | None:
        """Take the job for ``worker`` if it is unfinished and not leased by someone else."""
        now = time.time()
        statement = (
            update(VideoRow)
            .where(
                VideoRow.id == video_id,
                VideoRow.status.in_(UNFINISHED),
                or_(VideoRow.lease_owner.is_(None), VideoRow.lease_expires_at < now),
            )
            .values(
                lease_owner=worker,
                lease_expires_at=now + lease_seconds,
                status=JobStatus.IN_PROGRESS.value,
                started_at=now,
                updated_at=now,
                attempts=VideoRow.attempts + 1,
            )
        )
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = await session.get(VideoRow, video_id)
            assert row is not None
            return VideoJob.from_row(row)

    async def heartbeat_many(self, video_ids: Sequence[str], worker: str, lease_seconds: float) -> set[str]:
        """Extend the leases ``worker`` still holds, in one statement; the ids renewed.

        An id missing from the answer was lost (another worker took the job) or has ended."""
        now = time.time()
        renewed: set[str] = set()
        for chunk in _chunks(video_ids):
            statement = (
                update(VideoRow)
                .where(VideoRow.id.in_(chunk), VideoRow.lease_owner == worker)
                .values(lease_expires_at=now + lease_seconds)
                .returning(VideoRow.id)
            )
            async with self.engine.begin() as connection:
                renewed.update((await connection.scalars(statement)).all())
        return renewed

    async def release(self, video_id: str, worker: str) -> None:
        """Give a lease back without finishing (e.g. on shutdown), so another worker can start now."""
        statement = (
            update(VideoRow)
            .where(VideoRow.id == video_id, VideoRow.lease_owner == worker)
            .values(lease_owner=None, lease_expires_at=None)
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)

    # -- progress and endings --------------------------------------------------------------------

    async def _update(self, video_id: str, worker: str | None, **values: Any) -> bool:
        conditions = [VideoRow.id == video_id]
        if worker is not None:
            conditions.append(VideoRow.lease_owner == worker)
        values["updated_at"] = time.time()
        async with self._sessions.begin() as session:
            result = await session.execute(update(VideoRow).where(*conditions).values(**values))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def set_progress(self, video_id: str, worker: str, progress: int) -> bool:
        return await self._update(video_id, worker, progress=max(0, min(99, progress)))

    async def set_route(self, video_id: str, worker: str, provider: str, executed_model: str) -> bool:
        """The job fell back to another provider: say who really serves it."""
        return await self._update(video_id, worker, provider=provider, executed_model=executed_model)

    async def record_runs(self, video_id: str, worker: str, runs: Sequence[dict[str, Any]]) -> bool:
        """Persist per-run upstream state (request ids first of all) before doing anything else."""
        return await self._update(video_id, worker, runs=[dict(r) for r in runs])

    async def complete(
        self, video_id: str, worker: str, outputs: Sequence[VideoOutput], *, retention_seconds: float
    ) -> bool:
        now = time.time()
        return await self._update(
            video_id,
            worker,
            status=JobStatus.COMPLETED.value,
            progress=100,
            outputs=[asdict(o) for o in outputs],
            completed_at=now,
            expires_at=now + retention_seconds,
            lease_owner=None,
            lease_expires_at=None,
        )

    async def fail(self, video_id: str, worker: str | None, code: str, message: str) -> bool:
        return await self._update(
            video_id,
            worker,
            status=JobStatus.FAILED.value,
            error_code=code,
            error_message=message,
            completed_at=time.time(),
            lease_owner=None,
            lease_expires_at=None,
        )

    async def cancel(self, video_id: str, worker: str | None) -> bool:
        return await self._update(
            video_id,
            worker,
            status=JobStatus.CANCELLED.value,
            completed_at=time.time(),
            lease_owner=None,
            lease_expires_at=None,
        )

    async def request_cancel(self, video_id: str, *, delete_after: bool) -> VideoJob | None:
        """Ask the worker holding the job to stop; a queued job nobody holds is cancelled at once."""
        async with self._sessions.begin() as session:
            row = await session.get(VideoRow, video_id, with_for_update=True)
            if row is None or row.deleted:
                return None
            if JobStatus(row.status).finished:
                return VideoJob.from_row(row)
            row.cancel_requested = True
            row.deleted = row.deleted or delete_after
            if row.status == JobStatus.QUEUED.value and row.lease_owner is None:
                row.status = JobStatus.CANCELLED.value
                row.completed_at = time.time()
            row.updated_at = time.time()
            return VideoJob.from_row(row)

    async def cancel_requested_among(self, video_ids: Sequence[str]) -> set[str]:
        """Of these jobs, those a client cancelled or deleted (a row gone counts as cancelled)."""
        flags: dict[str, bool] = {}
        for chunk in _chunks(video_ids):
            query = select(VideoRow.id, VideoRow.cancel_requested).where(VideoRow.id.in_(chunk))
            async with self._read_engine.connect() as connection:
                flags.update({row.id: row.cancel_requested for row in await connection.execute(query)})
        return {video_id for video_id in video_ids if flags.get(video_id, True)}

    async def mark_deleted(self, video_id: str) -> None:
        await self._update(video_id, None, deleted=True)

    async def purge(self, video_id: str) -> None:
        """Remove the row for good (after its files are gone)."""
        async with self._sessions.begin() as session:
            await session.execute(delete(VideoRow).where(VideoRow.id == video_id))

    async def purgeable_ids(self, *, now: float | None = None, limit: int = 100) -> list[str]:
        """Finished jobs that expired or were deleted: their files and rows can go."""
        now = time.time() if now is None else now
        finished = [s.value for s in JobStatus if s.finished]
        query = (
            select(VideoRow.id)
            .where(
                VideoRow.status.in_(finished),
                or_(VideoRow.deleted.is_(True), VideoRow.expires_at < now),
            )
            .limit(limit)
        )
        async with self._reads() as session:
            return list((await session.scalars(query)).all())
