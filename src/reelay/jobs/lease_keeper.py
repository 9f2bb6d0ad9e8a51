"""One heartbeat and one cancellation check per interval for all of a worker's running jobs.

A worker with 100 jobs in flight used to run 100 watchers, each asking the database "was I
cancelled?" every interval and renewing its own lease: 200+ queries a second of pure bookkeeping,
a quarter of a core on PostgreSQL. The keeper asks once for all of them (``SELECT … WHERE id IN``)
and renews every lease in one ``UPDATE … RETURNING``, so the cost per interval is two queries
whatever the concurrency.

Cancelling a job's runner is how the keeper speaks: ``Watch.cancelled`` (the client asked) or
``Watch.lease_lost`` (another worker owns the job now) says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from reelay.jobs.store import JobStore

log = logging.getLogger("reelay.worker")


@dataclass
class Watch:
    runner: asyncio.Task[Any]
    cancelled: bool = False
    lease_lost: bool = False


class LeaseKeeper:
    def __init__(self, store: JobStore, worker_id: str, *, lease_seconds: float, check_interval: float) -> None:
        self.store = store
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.check_interval = check_interval
        self._watches: dict[str, Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._last_beat = time.monotonic()

    def watch(self, job_id: str, runner: asyncio.Task[Any]) -> Watch:
        """Keep ``job_id``'s lease alive while ``runner`` works on it; cancel the runner when told."""
        watch = Watch(runner)
        self._watches[job_id] = watch
        if self._task is None:  # the loop stops when idle; the first job back starts it again
            self._last_beat = time.monotonic()
            self._task = asyncio.create_task(self._loop())
        return watch

    def unwatch(self, job_id: str) -> None:
        self._watches.pop(job_id, None)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while self._watches:
            await asyncio.sleep(self.check_interval)
            try:
                await self.tick()
            except Exception:  # the database hiccuped: leases outlive a few missed beats
                log.warning("lease keeper round failed; retrying next interval", exc_info=True)
        self._task = None  # no await since the check above: a new watch() sees None and restarts us

    async def tick(self) -> None:
        """One round: stop cancelled jobs; renew the leases if a third of the lease has passed."""
        ids = list(self._watches)
        if not ids:
            return
        for job_id in await self.store.cancel_requested_among(ids):
            self._stop(job_id, lease_lost=False)
        if time.monotonic() - self._last_beat < self.lease_seconds / 3:
            return
        self._last_beat = time.monotonic()
        ids = list(self._watches)
        renewed = await self.store.heartbeat_many(ids, self.worker_id, self.lease_seconds)
        for job_id in ids:
            if job_id not in renewed:
                self._stop(job_id, lease_lost=True)

    def _stop(self, job_id: str, *, lease_lost: bool) -> None:
        watch = self._watches.pop(job_id, None)
        if watch is None or watch.runner.done():  # it ended while we asked: nothing to stop
            return
        if lease_lost:
            watch.lease_lost = True
        else:
            watch.cancelled = True
        watch.runner.cancel()
