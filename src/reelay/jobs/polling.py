"""The polling read: one job row by id, the query every client repeats until its video is done.

It is most of what a gateway answers, so it skips what the rest of the store needs. On PostgreSQL it
runs on its own small psycopg pool in autocommit: one round trip, no transaction, no SQLAlchemy
checkout or result machinery (together three quarters of the read's CPU; see docs/benchmarks.md).
The statement is the store's own ``select`` compiled once for psycopg, so the two never drift apart.
On SQLite the read stays on the SQLAlchemy engine, where a separate pool would buy nothing.

Neither pool pre-pings. A connection the server dropped (a restart) fails its first use, and the
read is retried once, after the pool has dropped every connection the server closed. The store's
SQLAlchemy pool is renewed at the same moment, so the writes after a restart do not each find a dead
connection first.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine


class PollingUnavailable(Exception):
    """The psycopg pool's OperationalError, InterfaceError or PoolTimeout: the database is unreachable,
    restarting or saturated. Wrapped, so psycopg (the ``scale`` extra) is imported only when used."""


POLLING_UNAVAILABLE = (PollingUnavailable,)


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


class PsycopgRowReader:
    """A psycopg pool in autocommit, opened on first use (a worker that never polls opens nothing).

    Connections grow on demand up to ``max_size`` and idle ones close after ten minutes, down to two.
    A read holds its connection for well under a millisecond, so a few serve thousands of polls a
    second; more would only count against PostgreSQL's ``max_connections``.
    """

    def __init__(self, engine: AsyncEngine, statement: Select[Any], *, max_size: int) -> None:
        import psycopg  # the scale extra: imported here, never on a bare install's path
        from psycopg.rows import namedtuple_row
        from psycopg_pool import AsyncConnectionPool, PoolTimeout

        self._operational_error = psycopg.OperationalError
        self._unavailable = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
        self._engine = engine
        self._sql = str(statement.compile(dialect=engine.dialect))  # … WHERE videos.id = %(video_id)s
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=min(2, max_size),
            max_size=max_size,
            kwargs={"autocommit": True, "row_factory": namedtuple_row},
            open=False,
            name="reelay-polling",
        )
        self._opened = False
        self._opening = asyncio.Lock()

    async def by_id(self, video_id: str) -> Any | None:
        try:
            return await self._read(video_id)
        except self._unavailable as error:
            raise PollingUnavailable(f"{type(error).__name__}: {error}") from error

    async def _read(self, video_id: str) -> Any | None:
        if not self._opened:
            await self._open()
        try:
            return await self._fetch(video_id)
        except self._operational_error:
            await self._pool.check()  # drop every connection the server closed, not just this one
            await self._engine.dispose(close=False)  # and the store's: its idle ones died with them
            return await self._fetch(video_id)

    async def _open(self) -> None:
        async with self._opening:
            if not self._opened:
                await self._pool.open(wait=False)
                self._opened = True

    async def _fetch(self, video_id: str) -> Any | None:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(self._sql, {"video_id": video_id})
            return await cursor.fetchone()

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()


POLLING_CONNECTIONS = 4  # per process, beside the store's own pool (docs/deploy.md)


def row_reader(engine: AsyncEngine, read_engine: AsyncEngine, statement: Select[Any]) -> RowReader:
    """The fastest reader this database has. ``engine`` is the store's own; ``read_engine`` is the
    view of it that the store reads through (autocommit on PostgreSQL)."""
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        return PsycopgRowReader(engine, statement, max_size=POLLING_CONNECTIONS)
    return EngineRowReader(read_engine, statement)
