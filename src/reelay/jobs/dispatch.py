"""How job ids reach workers, per queue backend: what the composition root opens, starts and stops.

- ``InProcessDispatch``: the embedded default. An asyncio queue in this process; ``Worker.start``
  runs the loops and the sweeper. Needs no services.
- ``ProcrastinateDispatch`` (``jobs.procrastinate_worker``): the scale-out mode. Tasks in PostgreSQL;
  API processes only enqueue, ``reelay worker`` processes run them.

Either way the job row is the source of truth; the queue only shortens the wait.
"""

from __future__ import annotations

from typing import Protocol

from reelay.jobs.queue import InProcessQueue, JobQueue
from reelay.jobs.store import CreateHook, JobStore
from reelay.jobs.worker import Worker


class Dispatch(Protocol):
    @property
    def queue(self) -> JobQueue: ...

    @property
    def on_create(self) -> CreateHook | None:
        """Give it to ``JobStore``: it runs in the transaction that creates a job."""
        ...

    async def open(self, store: JobStore) -> None:
        """Connect (before the first job is created)."""
        ...

    async def start(self, worker: Worker) -> None:
        """Start running jobs in this process, if this process runs any."""
        ...

    async def stop(self, worker: Worker) -> None: ...


class InProcessDispatch:
    def __init__(self, *, run_workers: bool = True) -> None:
        self.queue: InProcessQueue = InProcessQueue()
        self.on_create: CreateHook | None = None
        self.run_workers = run_workers

    async def open(self, store: JobStore) -> None:
        return None

    async def start(self, worker: Worker) -> None:
        if self.run_workers:
            await worker.start()

    async def stop(self, worker: Worker) -> None:
        await worker.stop()
