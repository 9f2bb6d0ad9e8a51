"""The durable job store: every state change is one short transaction.

Guarantees the worker relies on:
- ``claim`` is atomic: of several workers racing for one job, exactly one gets a lease.
- a lease lapses unless renewed by ``heartbeat``; a lapsed job can be claimed again.
- ``record_runs`` is called the moment a provider's request id is known, so recovery polls that id
  instead of submitting again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, delete, event, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine

from reelay.jobs.models import UNFINISHED, JobStatus, NewJob, Stage, VideoJob, VideoOutput, VideoRow
from reelay.jobs.polling import POLLING_UNAVAILABLE, row_reader
from reelay.jobs.spec import RunRecord, dump_runs
from reelay.jobs.sqlite_writer import SqliteWriter, file_database

T = TypeVar("T")

# The database, not the request, failed: unreachable, restarted under us, or every connection busy.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, *POLLING_UNAVAILABLE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
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
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=max(2, pool_size // 4), pool_recycle=3600)
    if url.startswith("sqlite"):
        sync_engine: Engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)
    return engine


def _chunks(ids: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    """Split an ``IN (…)`` list so no statement carries more bound parameters than SQLite allows."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


_VIDEOS = VideoRow.metadata.tables[VideoRow.__tablename__]
_BY_ID = select(_VIDEOS).where(_VIDEOS.c.id == bindparam("video_id"))
_INSERT_VIDEO = insert(_VIDEOS)
_UPDATE_ONE = update(_VIDEOS).where(_VIDEOS.c.id == bindparam("w_id"))
_UPDATE_LEASED = _UPDATE_ONE.where(_VIDEOS.c.lease_owner == bindparam("w_owner"))
_CLAIMABLE = update(_VIDEOS).where(
    _VIDEOS.c.id == bindparam("w_id"),
    _VIDEOS.c.status.in_(UNFINISHED),
    _VIDEOS.c.stage.in_(bindparam("w_stages", expanding=True)),
    or_(_VIDEOS.c.lease_owner.is_(None), _VIDEOS.c.lease_expires_at < bindparam("w_now")),
)
# (start, count_attempt) -> the claim: ``start`` marks it begun now, ``count_attempt`` counts a try.
_CLAIMS = {
    (start, count): _CLAIMABLE.values(
        **({"started_at": func.coalesce(_VIDEOS.c.started_at, bindparam("w_now"))} if start else {}),
        **({"attempts": _VIDEOS.c.attempts + 1} if count else {}),
    )
    for start in (True, False)
    for count in (True, False)
}


def _returned_ids(statement: Any, connection: Connection) -> list[str]:
    return list(connection.scalars(statement).all())


def _insert(values: dict[str, Any], job: VideoJob, on_insert: InsertHook | None, connection: Connection) -> None:
    connection.execute(_INSERT_VIDEO, values)
    if on_insert is not None:
        on_insert(connection, job)


@dataclass(frozen=True)
class PollUpdate:
    """What one poll of a waiting job changed: written for a whole batch in one statement."""

    video_id: str
    runs: list[RunRecord]
    progress: int
    stage: Stage
    due_at: float | None
    visible: bool = True  # False: only the schedule moved (a client would see nothing new: no event)


@dataclass(frozen=True)
class WaitingJob:
    """What the relay needs of a job it polls: its runs, nothing of the request or report (a claim
    of 200 jobs then decodes 200 small JSON lists, not 200 whole rows)."""

    id: str
    provider: str
    attempts: int
    cancel_requested: bool
    runs: tuple[RunRecord, ...]
    progress: int = 0

    def fresh_runs(self) -> list[RunRecord]:
        return [run.model_copy(deep=True) for run in self.runs]


@dataclass(frozen=True)
class DueJob:
    """An unleased job whose retry or limit wait is over: it goes back to a worker."""

    video_id: str
    stage: Stage
    provider: str


def count_unfinished(connection: Connection, owner: str) -> int:
    """The owner's unfinished, uncancelled jobs, on the caller's connection (an admission check
    inside the insert transaction counts the new row too)."""
    query = select(func.count(VideoRow.id)).where(
        VideoRow.owner == owner, VideoRow.status.in_(UNFINISHED), VideoRow.cancel_requested.is_(False)
    )
    return int(connection.scalar(query) or 0)


class CreateHook(Protocol):
    """Runs inside the transaction that inserts a job (e.g. to defer its queue task atomically)."""

    async def __call__(self, connection: AsyncConnection, job: VideoJob) -> None: ...


class InsertHook(Protocol):
    """A request's own checks and rows, inside the transaction that inserts its job (admission,
    idempotency key, billing hold, webhook target). Synchronous, so that on SQLite the whole
    transaction is one hop to the writer thread; on a server database it runs through ``run_sync``."""

    def __call__(self, connection: Connection, job: VideoJob) -> None: ...


# Told a job's id after a transaction that changed it commits (live progress: ``reelay.events``).
ChangeHook = Callable[[str], None]


class JobStore:
    def __init__(
        self, engine: AsyncEngine, *, on_create: CreateHook | None = None, on_change: ChangeHook | None = None
    ) -> None:
        self.engine = engine
        # Reads need no transaction: on PostgreSQL autocommit makes a read one round trip, where a
        # transaction adds BEGIN and the pool's ROLLBACK on return (half a retrieve's cost). On SQLite
        # switching the mode per checkout costs extra hops to aiosqlite's thread: reads stay as they are.
        sqlite = engine.dialect.name == "sqlite"
        self._read_engine = engine if sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        self._reads = async_sessionmaker(self._read_engine, expire_on_commit=False)
        self._polling = row_reader(engine, self._read_engine, _BY_ID, _sqlite_pragmas)
        self._on_create = on_create
        self._on_change = on_change
        # SQLite takes one writer at a time, and a writer that finds the lock taken sleeps in SQLite's
        # busy handler (1 ms growing to 100 ms a try): with a dozen writers in one process that
        # polling, not the writes, set the pace (3 creates/s measured with the relay running). Taking
        # turns hands the write lock over at once: an SQLite file's writes take turns on the writer
        # thread (``_write``); an in-memory database, which a second connection cannot open, on an
        # asyncio lock. PostgreSQL needs neither.
        self._writer = SqliteWriter(engine.url, _sqlite_pragmas) if file_database(engine.url) else None
        self._write_turns: asyncio.Lock | None = asyncio.Lock() if sqlite and self._writer is None else None

    def _writing(self) -> contextlib.AbstractAsyncContextManager[object]:
        """Wait for this process's turn to write (SQLite), or nothing (a server database)."""
        return self._write_turns if self._write_turns is not None else contextlib.nullcontext()

    @property
    def statement_engines(self) -> list[Engine]:
        """Every engine this store's statements run on (instrumentation: count or time them)."""
        return [self.engine.sync_engine] + ([self._writer.engine] if self._writer is not None else [])

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """One write transaction. On an SQLite file: one hop to the writer thread, which alone writes,
        so writes take turns there and a write holds the turn only while its statements run (through
        aiosqlite a write held it across a hop per statement, and on a busy machine a create mostly
        waited for it behind the worker's and relay's writes). Elsewhere: the async engine, with
        ``work`` run through ``run_sync``."""
        if self._writer is not None:
            return await self._writer.transaction(work)
        async with self._writing(), self.engine.begin() as connection:
            return await connection.run_sync(work)

    def _changed(self, video_id: str) -> None:
        if self._on_change is not None:
            self._on_change(video_id)

    async def close(self) -> None:
        await self._polling.close()
        if self._writer is not None:
            self._writer.close()
        await self.engine.dispose()

    # -- create and read -------------------------------------------------------------------------

    async def create(self, job: NewJob, *, on_insert: InsertHook | None = None) -> VideoJob:
        """Insert the job. ``on_insert`` runs in the same transaction (admission checks, idempotency
        key, webhook target): if it raises, the job was never created."""
        now = time.time()
        created = job.created(now)
        values = {
            **job.row_values(),
            "status": created.status.value,
            "stage": created.stage.value,
            "due_at": None,
            "progress": 0,
            "created_at": now,
            "updated_at": now,
            "outputs": [],
            "attempts": 0,
            "cancel_requested": False,
            "deleted": False,
        }
        # Core with a statement built once: the ORM's unit of work and a per-call ``values()`` were
        # two thirds of a create's database CPU (docs/benchmarks.md, "A create's own cost").
        if self._on_create is None:
            await self._write(partial(_insert, values, created, on_insert))
        else:  # the row and its queue task commit together, or neither
            async with self._writing(), self.engine.begin() as connection:
                await connection.run_sync(partial(_insert, values, created, on_insert))
                await self._on_create(connection, created)
        self._changed(job.id)
        return created

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

    async def claimable(self, *, now: float | None = None, limit: int = 100) -> list[DueJob]:
        """Unfinished jobs a worker should hold and nobody does (a crashed worker's jobs included).

        Waiting jobs are the relay's (``claim_due_polls``), and jobs whose retry or limit wait has
        not come yet are left until ``due_at``."""
        now = time.time() if now is None else now
        query = (
            select(VideoRow.id, VideoRow.stage, VideoRow.provider)
            .where(
                VideoRow.status.in_(UNFINISHED),
                VideoRow.stage != Stage.WAIT.value,
                or_(VideoRow.due_at.is_(None), VideoRow.due_at <= now),
                or_(VideoRow.lease_expires_at.is_(None), VideoRow.lease_expires_at < now),
            )
            .order_by(VideoRow.created_at.asc())
            .limit(limit)
        )
        async with self._read_engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [DueJob(row.id, Stage(row.stage), row.provider) for row in rows]

    async def claimable_ids(self, *, now: float | None = None, limit: int = 100) -> list[str]:
        return [due.video_id for due in await self.claimable(now=now, limit=limit)]

    # -- leases ----------------------------------------------------------------------------------

    async def claim(
        self,
        video_id: str,
        worker: str,
        lease_seconds: float,
        *,
        stages: Collection[Stage] = (Stage.SUBMIT, Stage.RENDER, Stage.COLLECT),
        start: bool = True,
        count_attempt: bool = True,
    ) -> VideoJob | None:
        """Take the job for ``worker`` if it is unfinished, in one of ``stages`` and not leased by
        someone else. ``start`` marks it in progress (a render starts now); ``count_attempt`` counts
        a try (submits and renders do, collecting a finished generation does not)."""
        now = time.time()
        statement = _CLAIMS[(start, count_attempt)]
        params: dict[str, Any] = {
            "w_id": video_id,
            "w_stages": [stage.value for stage in stages],
            "w_now": now,
            "lease_owner": worker,
            "lease_expires_at": now + lease_seconds,
            "updated_at": now,
        }
        if start:
            params["status"] = JobStatus.IN_PROGRESS.value

        def take(connection: Connection) -> VideoJob | None:
            if connection.execute(statement, params).rowcount != 1:
                return None
            return VideoJob.from_row(connection.execute(_BY_ID, {"video_id": video_id}).one())

        job = await self._write(take)
        if job is not None:
            self._changed(video_id)
        return job

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
            renewed.update(await self._write(partial(_returned_ids, statement)))
        return renewed

    async def schedule(
        self,
        video_id: str,
        worker: str,
        *,
        stage: Stage,
        due_at: float | None,
        runs: Sequence[RunRecord] | None = None,
        detail: str | None = None,
        attempt_used: bool = False,
    ) -> bool:
        """Hand the job on: to ``stage``, due at ``due_at`` (None: a worker takes it now), lease
        released. ``detail`` says why a queued job waits; ``attempt_used`` counts a failed try."""
        values: dict[str, Any] = {
            "stage": stage.value,
            "due_at": due_at,
            "status_detail": detail,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if runs is not None:
            values["runs"] = dump_runs(list(runs))
        if attempt_used:
            values["attempts"] = _VIDEOS.c.attempts + 1
        return await self._update(video_id, worker, **values)

    async def begin_wait(self, video_id: str, worker: str, runs: Sequence[RunRecord], due_at: float) -> bool:
        """Every run is upstream: the job waits, holding nothing, until the relay polls it at ``due_at``."""
        now = time.time()
        return await self._update(
            video_id,
            worker,
            stage=Stage.WAIT.value,
            due_at=due_at,
            status=JobStatus.IN_PROGRESS.value,
            started_at=func.coalesce(_VIDEOS.c.started_at, now),
            status_detail=None,
            runs=dump_runs(list(runs)),
            lease_owner=None,
            lease_expires_at=None,
        )

    async def claim_due_polls(
        self, owner: str, lease_seconds: float, *, limit: int, providers: Collection[str] | None = None
    ) -> list[WaitingJob]:
        """Lease up to ``limit`` waiting jobs whose poll is due (or that a client cancelled), oldest
        due first, of ``providers`` only (those this process can poll). Rows another process is
        claiming are skipped, never waited on (``SKIP LOCKED`` on PostgreSQL; SQLite has one writer
        at a time), so many pollers share the schedule and no job is polled twice at once."""
        now = time.time()
        conditions = (
            VideoRow.stage == Stage.WAIT.value,
            VideoRow.status == JobStatus.IN_PROGRESS.value,
            VideoRow.due_at <= now,
            or_(VideoRow.lease_owner.is_(None), VideoRow.lease_expires_at < now),
            *([VideoRow.provider.in_(list(providers))] if providers is not None else []),
        )
        async with self._read_engine.connect() as connection:  # a read first: an idle tick takes no write lock
            if await connection.scalar(select(VideoRow.id).where(*conditions).limit(1)) is None:
                return []
        due = (
            select(VideoRow.id)
            .where(*conditions)
            .order_by(VideoRow.due_at.asc())
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(VideoRow)
            .where(VideoRow.id.in_(due.scalar_subquery()))
            .values(lease_owner=owner, lease_expires_at=now + lease_seconds)
            .returning(
                VideoRow.id,
                VideoRow.provider,
                VideoRow.attempts,
                VideoRow.cancel_requested,
                VideoRow.runs,
                VideoRow.progress,
            )
            .execution_options(synchronize_session=False)
        )
        rows = await self._write(lambda connection: connection.execute(statement).all())
        return [
            WaitingJob(
                row.id,
                row.provider,
                row.attempts,
                row.cancel_requested,
                tuple(RunRecord.model_validate(run) for run in row.runs or []),
                row.progress or 0,
            )
            for row in rows
        ]

    async def save_polls(self, owner: str, updates: Sequence[PollUpdate]) -> None:
        """Write a batch of polls in one statement; each row only while ``owner`` still leases it."""
        if not updates:
            return
        now = time.time()
        statement = (
            update(VideoRow)
            .where(VideoRow.id == bindparam("b_id"), VideoRow.lease_owner == owner)
            .values(
                runs=bindparam("b_runs"),
                progress=bindparam("b_progress"),
                stage=bindparam("b_stage"),
                due_at=bindparam("b_due_at"),
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        params = [
            {
                "b_id": u.video_id,
                "b_runs": dump_runs(u.runs),
                "b_progress": max(0, min(99, u.progress)),
                "b_stage": u.stage.value,
                "b_due_at": u.due_at,
            }
            for u in updates
        ]
        await self._write(lambda connection: connection.execute(statement, params))
        for update_ in updates:
            if update_.visible:  # a NOTIFY per unchanged poll would cost PostgreSQL more than the poll
                self._changed(update_.video_id)

    async def due_jobs(self, *, limit: int = 500) -> list[DueJob]:
        """Unleased jobs outside ``wait`` whose retry or limit wait is over, oldest due first."""
        now = time.time()
        query = (
            select(VideoRow.id, VideoRow.stage, VideoRow.provider)
            .where(
                VideoRow.stage != Stage.WAIT.value,
                VideoRow.status.in_(UNFINISHED),
                VideoRow.due_at <= now,
                or_(VideoRow.lease_owner.is_(None), VideoRow.lease_expires_at < now),
            )
            .order_by(VideoRow.due_at.asc())
            .limit(limit)
        )
        async with self._read_engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [DueJob(row.id, Stage(row.stage), row.provider) for row in rows]

    async def take_due(self, video_ids: Sequence[str]) -> list[str]:
        """Clear the due time of these jobs (they go to a worker now); the ids this call took: of
        processes racing for one job, one gets it."""
        now = time.time()
        taken: list[str] = []
        for chunk in _chunks(video_ids):
            statement = (
                update(VideoRow)
                .where(VideoRow.id.in_(chunk), VideoRow.due_at <= now)
                .values(due_at=None)
                .returning(VideoRow.id)
                .execution_options(synchronize_session=False)
            )
            taken.extend(await self._write(partial(_returned_ids, statement)))
        return taken

    async def in_flight_by_provider(self) -> dict[str, int]:
        """Jobs waiting on each provider (submitted, not yet finished upstream)."""
        query = (
            select(VideoRow.provider, func.count())
            .where(VideoRow.stage == Stage.WAIT.value, VideoRow.status == JobStatus.IN_PROGRESS.value)
            .group_by(VideoRow.provider)
        )
        async with self._read_engine.connect() as connection:
            return {str(provider): int(count) for provider, count in (await connection.execute(query)).all()}

    async def status_counts(self) -> dict[str, int]:
        """Jobs by status (deleted ones left out), for the metrics gauges."""
        query = select(VideoRow.status, func.count()).where(VideoRow.deleted.is_(False)).group_by(VideoRow.status)
        async with self._read_engine.connect() as connection:
            return {str(status): int(count) for status, count in (await connection.execute(query)).all()}

    async def release(self, video_id: str, worker: str) -> None:
        """Give a lease back without finishing (e.g. on shutdown), so another worker can start now."""
        statement = (
            update(VideoRow)
            .where(VideoRow.id == video_id, VideoRow.lease_owner == worker)
            .values(lease_owner=None, lease_expires_at=None)
        )
        await self._write(lambda connection: connection.execute(statement))

    async def release_all_leases(self) -> int:
        """Drop every lease on an unfinished job: only for a process that knows it is the sole
        worker of this database (``jobs.sole_owner``), so each lease it finds is a dead process's."""
        statement = (
            update(VideoRow)
            .where(VideoRow.lease_owner.is_not(None), VideoRow.status.in_(UNFINISHED))
            .values(lease_owner=None, lease_expires_at=None)
        )
        return await self._write(lambda connection: int(connection.execute(statement).rowcount or 0))

    # -- progress and endings --------------------------------------------------------------------

    async def _update(self, video_id: str, worker: str | None, **values: Any) -> bool:
        """Set ``values`` on the job (only while ``worker`` holds its lease, unless None). Plain values
        go as parameters of a statement built once; SQL expressions (a counter, a coalesce) are
        added to it. Building an ORM ``update(...).where(...).values(...)`` per call cost more CPU
        than running it."""
        params: dict[str, Any] = {"w_id": video_id, "updated_at": time.time()}
        expressions: dict[str, Any] = {}
        for column, value in values.items():
            (expressions if isinstance(value, ColumnElement) else params)[column] = value
        statement = _UPDATE_ONE
        if worker is not None:
            statement, params["w_owner"] = _UPDATE_LEASED, worker
        if expressions:
            statement = statement.values(**expressions)
        changed = await self._write(lambda connection: connection.execute(statement, params).rowcount == 1)
        if changed:
            self._changed(video_id)
        return changed

    async def set_progress(self, video_id: str, worker: str, progress: int) -> bool:
        return await self._update(video_id, worker, progress=max(0, min(99, progress)))

    async def set_route(self, video_id: str, worker: str, provider: str, executed_model: str) -> bool:
        """The job fell back to another provider: say who really serves it."""
        return await self._update(video_id, worker, provider=provider, executed_model=executed_model)

    async def record_runs(self, video_id: str, worker: str, runs: Sequence[RunRecord]) -> bool:
        """Persist per-run upstream state (request ids first of all) before doing anything else."""
        return await self._update(video_id, worker, runs=dump_runs(list(runs)))

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
            due_at=None,
            status_detail=None,
        )

    async def fail(
        self, video_id: str, worker: str | None, code: str, message: str, *, status: JobStatus = JobStatus.FAILED
    ) -> bool:
        return await self._update(
            video_id,
            worker,
            status=status.value,
            error_code=code,
            error_message=message,
            completed_at=time.time(),
            lease_owner=None,
            lease_expires_at=None,
            due_at=None,
            status_detail=None,
        )

    async def cancel(self, video_id: str, worker: str | None) -> bool:
        return await self._update(
            video_id,
            worker,
            status=JobStatus.CANCELLED.value,
            completed_at=time.time(),
            lease_owner=None,
            lease_expires_at=None,
            due_at=None,
            status_detail=None,
        )

    async def request_cancel(self, video_id: str, *, delete_after: bool) -> VideoJob | None:
        """Ask the worker holding the job to stop; a queued job nobody holds is cancelled at once."""

        def ask(connection: Connection) -> tuple[VideoJob | None, bool]:
            """The job as it is now, and whether this call changed it."""
            row = connection.execute(_BY_ID.with_for_update(), {"video_id": video_id}).one_or_none()
            if row is None or row.deleted:
                return None, False
            if JobStatus(row.status).finished:
                return VideoJob.from_row(row), False
            now = time.time()
            values: dict[str, Any] = {"cancel_requested": True, "deleted": row.deleted or delete_after}
            leased = row.lease_owner is not None and (row.lease_expires_at or 0.0) >= now
            upstream = any(run.get("upstream_id") for run in row.runs or [])
            if not leased and not upstream:  # nothing runs anywhere: it ends here and now
                values.update(status=JobStatus.CANCELLED.value, completed_at=now, due_at=None, lease_owner=None)
            elif not leased:  # upstream work to stop: the relay or a worker takes it at once
                values["due_at"] = now
            values["updated_at"] = now
            connection.execute(update(VideoRow).where(VideoRow.id == video_id).values(**values))
            return VideoJob.from_row(connection.execute(_BY_ID, {"video_id": video_id}).one()), True

        job, changed = await self._write(ask)
        if changed:
            self._changed(video_id)
        return job

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
        statement = delete(VideoRow).where(VideoRow.id == video_id)
        await self._write(lambda connection: connection.execute(statement))

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
