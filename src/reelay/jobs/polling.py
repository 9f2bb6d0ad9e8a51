"""The polling read: one job row by id, the query every client repeats until its video is done.

It is most of what a gateway answers, so it skips what the rest of the store needs. On PostgreSQL it
runs on its own small psycopg pool in autocommit: one round trip, no transaction, no SQLAlchemy
checkout or result machinery (together three quarters of the read's CPU; see docs/benchmarks.md).
The statement is the store's own ``select`` compiled once for psycopg, so the two never drift apart.
On SQLite the read stays on the SQLAlchemy engine, where a separate pool would buy nothing (and
psycopg is never imported: ``reelay.jobs.polling_psycopg``).

Neither pool pre-pings. A connection the server dropped (a restart) fails its first use, and the
read is retried once, after the pool has dropped every connection the server closed. The store's
SQLAlchemy pool is renewed at the same moment, so the writes after a restart do not each find a dead
connection first.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

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


POLLING_CONNECTIONS = 4  # per process, beside the store's own pool (docs/deploy.md)


def row_reader(engine: AsyncEngine, read_engine: AsyncEngine, statement: Select[Any]) -> RowReader:
    """The fastest reader this database has. ``engine`` is the store's own; ``read_engine`` is the
    view of it that the store reads through (autocommit on PostgreSQL)."""
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        from reelay.jobs.polling_psycopg import PsycopgRowReader  # psycopg only where it is the driver

        return PsycopgRowReader(engine, statement, max_size=POLLING_CONNECTIONS)
    return EngineRowReader(read_engine, statement)
