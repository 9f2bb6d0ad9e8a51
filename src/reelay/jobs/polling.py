"""The polling read: one job row by id, the query every client repeats until its video is done.

It is most of what a gateway answers, so it skips what the rest of the store needs. On PostgreSQL it
runs on its own small psycopg pool in autocommit: one round trip, no transaction, no SQLAlchemy
checkout or result machinery (together three quarters of the read's CPU; see docs/benchmarks.md).
The statement is the store's own ``select`` compiled once for psycopg, so the two never drift apart.
On an SQLite file it runs on the event loop's own thread, on a connection of its own: a WAL read
never waits for the writer and costs tens of microseconds, less than the two hops to aiosqlite's
thread and back it replaces; if SQLite says busy (recovering a crashed writer's WAL) it waits at most
``SQLITE_LOOP_BUSY_MS`` and then takes the SQLAlchemy engine like any other read. psycopg is never
imported for SQLite (``reelay.jobs.polling_psycopg``).

Neither pool pre-pings. A connection the server dropped (a restart) fails its first use, and the
read is retried once, after the pool has dropped every connection the server closed. The store's
SQLAlchemy pool is renewed at the same moment, so the writes after a restart do not each find a dead
connection first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.jobs.sqlite_writer import file_database

# Extra errors the polling read raises when the database is unreachable, restarting or saturated:
# none, since the psycopg reader raises SQLAlchemy's own (the store already catches those).
POLLING_UNAVAILABLE: tuple[()] = ()


class RowReader(Protocol):
    async def by_id(self, video_id: str) -> Any | None:
        """The row (attribute access by column name), or None."""

    async def close(self) -> None: ...


class EngineRowReader:
    """SQLAlchemy Core on the store's engine (SQLite, and any database without a faster path)."""

    def __init__(self, engine: AsyncEngine, statement: Select[Any]) -> None:
        self._engine = engine
        self._statement = statement

    async def by_id(self, video_id: str) -> Any | None:
        try:
            return await self._fetch(video_id)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return await self._fetch(video_id)  # SQLAlchemy renewed the whole pool: once more

    async def _fetch(self, video_id: str) -> Any | None:
        async with self._engine.connect() as connection:
            return (await connection.execute(self._statement, {"video_id": video_id})).one_or_none()

    async def close(self) -> None:
        """The engine belongs to the store, which disposes of it."""


SQLITE_LOOP_BUSY_MS = 50  # the longest a read on the event loop's thread may wait for a lock


class SqliteRowReader:
    """An SQLite file read on the calling (event loop) thread; busy → the engine's read instead."""

    def __init__(self, engine: AsyncEngine, statement: Select[Any], on_connect: Callable[[Any, Any], None]) -> None:
        self._fallback = EngineRowReader(engine, statement)
        self._statement = statement
        self._engine: Engine = create_engine(
            engine.url.set(drivername="sqlite+pysqlite"),
            pool_size=1,  # reads never overlap: each runs start to end without yielding
            max_overflow=0,
            connect_args={"check_same_thread": False},  # a test client's loop may run on another thread
        )
        event.listen(self._engine, "connect", on_connect)
        event.listen(self._engine, "connect", _short_busy_timeout)

    async def by_id(self, video_id: str) -> Any | None:
        try:
            with self._engine.connect() as connection:
                return connection.execute(self._statement, {"video_id": video_id}).one_or_none()
        except OperationalError:
            return await self._fallback.by_id(video_id)

    async def close(self) -> None:
        self._engine.dispose()


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOOP_BUSY_MS}")  # after the store's own pragmas
    cursor.close()


POLLING_CONNECTIONS = 4  # per process, beside the store's own pool (docs/deploy.md)


def row_reader(
    engine: AsyncEngine,
    read_engine: AsyncEngine,
    statement: Select[Any],
    on_sqlite_connect: Callable[[Any, Any], None] = lambda _connection, _record: None,
) -> RowReader:
    """The fastest reader this database has. ``engine`` is the store's own; ``read_engine`` is the
    view of it that the store reads through (autocommit on PostgreSQL); ``on_sqlite_connect`` sets
    the store's pragmas on an SQLite connection of the reader's own."""
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        from reelay.jobs.polling_psycopg import PsycopgRowReader  # psycopg only where it is the driver

        return PsycopgRowReader(engine, statement, max_size=POLLING_CONNECTIONS)
    if file_database(engine.url):
        return SqliteRowReader(engine, statement, on_sqlite_connect)
    return EngineRowReader(read_engine, statement)
