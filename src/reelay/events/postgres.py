"""Job events across processes through PostgreSQL ``LISTEN/NOTIFY`` (the scale-out mode).

One process holds two connections for this, whatever the number of clients streaming from it: one
that ``LISTEN``s and feeds the local hub, one that sends a ``NOTIFY`` for each change its own store
commits (several changes to one job before it is sent count as one; all that are pending go in one
statement). A notification carries only
the job id; subscribers re-read the row. When the listening connection drops, every subscriber is
woken to re-read once it is back, so nothing changed during the gap goes unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from reelay.events.hub import LocalEventHub

log = logging.getLogger("reelay.events")

CHANNEL = "reelay_video_events"
_RECONNECT_SECONDS = 1.0


def _dsn(url: str) -> str:
    """SQLAlchemy's ``postgresql+psycopg://`` URL as libpq wants it."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


class PostgresEventHub(LocalEventHub):
    def __init__(self, database_url: str) -> None:
        super().__init__()
        self._dsn = _dsn(database_url)
        self._pending: set[str] = set()
        self._has_pending = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()  # set while the LISTEN connection is up (tests wait on it)

    def changed(self, video_id: str) -> None:
        """Queue a NOTIFY; this process hears its own through LISTEN like everyone else's."""
        self._pending.add(video_id)
        self._has_pending.set()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._notify())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _connect(self) -> Any:
        import psycopg  # the scale extra; only this mode needs it

        return await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)

    async def _listen(self) -> None:
        while True:
            try:
                async with await self._connect() as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self.deliver_all()  # anything that changed while we were not listening
                    async for notice in connection.notifies():
                        self.deliver(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("job events: LISTEN connection lost; reconnecting", extra={"error": repr(error)})
            self.listening.clear()
            await asyncio.sleep(_RECONNECT_SECONDS)

    async def _notify(self) -> None:
        batch: set[str] = set()
        while True:
            try:
                async with await self._connect() as connection:
                    while True:
                        await self._has_pending.wait()
                        self._has_pending.clear()
                        batch, self._pending = self._pending, set()
                        # One statement (one transaction) for the whole batch, not one per job.
                        await connection.execute(
                            "SELECT pg_notify(%s, id) FROM unnest(%s::text[]) AS id", (CHANNEL, sorted(batch))
                        )
                        batch = set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("job events: NOTIFY connection lost; reconnecting", extra={"error": repr(error)})
                self._pending |= batch  # sent again on the next connection
                self._has_pending.set()
            await asyncio.sleep(_RECONNECT_SECONDS)
