"""The polling read on PostgreSQL: its own small psycopg pool in autocommit (``reelay.jobs.polling``).

Imported only when the store's database is PostgreSQL through psycopg, so a bare install (no
``scale`` extra) and every SQLite deployment never load psycopg. Its failures leave this module as
SQLAlchemy's errors (``OperationalError``, ``InterfaceError``, ``TimeoutError``), the same ones the
rest of the store raises, so callers catch one set (``reelay.jobs.store.DATABASE_UNAVAILABLE``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import Select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyPoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("reelay.store")

# psycopg_pool's counters that say why a connection did not come: in use, waiting, failing to connect.
# (PoolTimeout is an OperationalError, so ``by_id`` catches it first.)
_POOL_STATS = ("pool_size", "pool_available", "requests_waiting", "connections_errors", "connections_lost")


class PsycopgRowReader:
    """A psycopg pool in autocommit, opened on first use (a worker that never polls opens nothing).

    Connections grow on demand up to ``max_size`` and idle ones close after ten minutes, down to two.
    A read holds its connection for well under a millisecond, so a few serve thousands of polls a
    second; more would only count against PostgreSQL's ``max_connections``.
    """

    def __init__(self, engine: AsyncEngine, statement: Select[Any], *, max_size: int, timeout: float = 30.0) -> None:
        self._engine = engine
        self._sql = str(statement.compile(dialect=engine.dialect))  # … WHERE videos.id = %(video_id)s
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=min(2, max_size),
            max_size=max_size,
            kwargs={"autocommit": True, "row_factory": namedtuple_row},
            open=False,
            timeout=timeout,  # the longest a read waits for a free connection
            name="reelay-polling",
        )
        self._opened = False
        self._opening = asyncio.Lock()

    async def by_id(self, video_id: str) -> Any | None:
        params = {"video_id": video_id}
        try:
            if not self._opened:
                await self._open()
            try:
                return await self._fetch(params)
            except PoolTimeout:
                raise  # no connection came free in time: nothing was dropped, nothing to renew or retry
            except psycopg.OperationalError:
                await self._pool.check()  # drop every connection the server closed, not just this one
                await self._engine.dispose(close=False)  # and the store's: its idle ones died with them
                return await self._fetch(params)
        except PoolTimeout as error:
            stats = self._pool.get_stats()  # what held the pool: for the operator and for us
            log.warning("polling pool timed out", extra={"pool": {k: stats.get(k) for k in _POOL_STATS}})
            raise SQLAlchemyPoolTimeout(f"the polling pool had no free connection: {error}") from error
        except psycopg.OperationalError as error:
            raise OperationalError(self._sql, params, error) from error
        except psycopg.InterfaceError as error:
            raise InterfaceError(self._sql, params, error) from error

    async def _open(self) -> None:
        async with self._opening:
            if not self._opened:
                await self._pool.open(wait=False)
                self._opened = True

    async def _fetch(self, params: dict[str, str]) -> Any | None:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(self._sql, params)
            return await cursor.fetchone()

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
