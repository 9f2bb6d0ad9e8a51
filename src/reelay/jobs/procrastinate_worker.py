"""Running jobs from procrastinate in this process (``reelay worker``, or ``reelay serve`` when asked).

procrastinate's worker pulls tasks from the chosen queues, ``concurrency`` at a time, and each task
is ``Worker.process(video_id)`` (lease, heartbeat, provider, storage, end). A side loop, every
``sweep_seconds``: (1) hands stalled tasks of dead workers back to the queue (procrastinate's worker
heartbeats), (2) runs Reelay's own sweep: jobs whose lease lapsed are deferred again, expired and
deleted jobs are purged. On stop, running jobs get ``GRACE_SECONDS`` to finish, then are cancelled;
``Worker.process`` releases their leases so another worker takes them over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from procrastinate.app import WorkerOptions

from reelay.jobs.procrastinate_queue import TASK_NAME, ProcrastinateQueue, ensure_schema, make_app
from reelay.jobs.store import CreateHook, JobStore
from reelay.jobs.worker import Worker

log = logging.getLogger("reelay.queue")

GRACE_SECONDS = 5.0
HEARTBEAT_SECONDS = 5.0
STALLED_AFTER_SECONDS = 20.0  # a worker silent this long is dead: its tasks are retried


class ProcrastinateDispatch:
    def __init__(
        self,
        database_url: str,
        *,
        run_workers: bool,
        queues: list[str] | None,
        concurrency: int,
        sweep_seconds: float,
    ) -> None:
        self.database_url = database_url
        self.app = make_app(database_url, pool_size=4 if run_workers else 2)
        self.queue = ProcrastinateQueue(self.app)
        self.on_create: CreateHook | None = self.queue.defer_in_transaction
        self.run_workers = run_workers
        self.queues = queues
        self.concurrency = concurrency
        self.sweep_seconds = sweep_seconds
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self, store: JobStore) -> None:
        if await ensure_schema(self.database_url):
            log.info("installed procrastinate's schema")
        await self.app.open_async()
        self.queue.bind(store)

    async def start(self, worker: Worker) -> None:
        if not self.run_workers:
            return
        worker.scratch_dir.mkdir(parents=True, exist_ok=True)

        @self.app.task(name=TASK_NAME)
        async def run_job(video_id: str) -> None:
            await worker.process(video_id)

        options: WorkerOptions = {
            "concurrency": self.concurrency,
            "name": worker.worker_id,
            "install_signal_handlers": False,
            "delete_jobs": "successful",
            "shutdown_graceful_timeout": GRACE_SECONDS,
            "update_heartbeat_interval": HEARTBEAT_SECONDS,
            "stalled_worker_timeout": STALLED_AFTER_SECONDS,
        }
        if self.queues is not None:
            options["queues"] = self.queues
        runner = self.app.run_worker_async(**options)
        self._tasks = [asyncio.create_task(runner), asyncio.create_task(self._sweeper(worker))]
        log.info("worker started", extra={"worker": worker.worker_id, "queues": self.queues or "all"})

    async def _sweeper(self, worker: Worker) -> None:
        while True:
            try:
                await self.retry_stalled()
                await worker.sweep()
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(self.sweep_seconds)

    async def retry_stalled(self) -> int:
        """Put tasks of workers that stopped heart-beating back in the queue; how many."""
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(task_name=TASK_NAME, seconds_since_heartbeat=STALLED_AFTER_SECONDS)
        retried = 0
        for job in stalled:
            try:  # another worker may have retried it first, or the sweep re-deferred the job
                await manager.retry_job(job)
                retried += 1
            except Exception as error:
                log.debug("stalled task not retried", extra={"task": job.id, "error": str(error)})
        return retried

    async def stop(self, worker: Worker) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await worker.stop()
        await self.queue.drain()
        await self.app.close_async()
