"""Whole SQLite write transactions in one thread hop.

aiosqlite hands every call to its connection's thread and back: a create (BEGIN, the job row, the
ledger's hold, COMMIT, the connection's reset) paid five hops, each one a wake-up of the event loop
that other requests' callbacks were ahead of, with this process's SQLite write turn held all the
while. Here a transaction is a plain function over a synchronous connection, run start to end on
one thread of its own, so a create costs one hop and holds the write turn only for its statements.

SQLite only: a server database is reached through the store's async engine as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL

T = TypeVar("T")


def file_database(url: URL) -> bool:
    """Whether ``url`` names an SQLite file a second connection can open (not ``:memory:``)."""
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


class SqliteWriter:
    """One thread with one synchronous connection to the store's SQLite file."""

    def __init__(self, url: URL, on_connect: Callable[[Any, Any], None]) -> None:
        self._engine: Engine = create_engine(
            url.set(drivername="sqlite+pysqlite"),
            pool_size=1,
            max_overflow=0,
            connect_args={"check_same_thread": False},  # closed by ``close`` from the loop's thread
        )
        event.listen(self._engine, "connect", on_connect)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reelay-sqlite-writer")

    @property
    def engine(self) -> Engine:
        return self._engine

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises.

        A caller cancelled meanwhile does not stop the transaction, which ends either way; a job it
        committed is found by the worker's sweep (no queue entry is needed for that)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)

    def _run(self, work: Callable[[Connection], T]) -> T:
        with self._engine.begin() as connection:
            return work(connection)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._engine.dispose()


__all__ = ["SqliteWriter", "file_database"]
