"""The worker: the stages of a job that need one, in two lanes, and never losing a job.

- Intake lane (``submit``, I/O only, ``submit_concurrency`` at once): admission to the provider
  (``jobs.limits``), then every run is submitted (``jobs.submission``: fallback, breaker) with its
  submit key stored first and its upstream id stored the moment it is known. Then the job waits
  (``begin_wait``): it holds no lane, no task and no lease until the relay (``jobs.relay``) polls it.
- CPU lane (``render`` and ``collect``, ``concurrency`` at once): a job on a non-resumable
  provider (the local engine) renders start to end in a slot; a job whose runs finished upstream is
  collected (``jobs.collect``: download, probe, thumbnails, store) and completed.

Failures follow ``jobs.retry.RetryPolicy``: the job goes back to its stage with a due time in the
job table (durable: a restart keeps the backoff), or fails. Endings are told once, through
``jobs.events.JobEvents``. On start, every job a worker should hold and nobody does is handed out
again; the relay picks up the waiting ones by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelay.billing import deadline
from reelay.errors import ReelayError, UpstreamError, UpstreamTimeout
from reelay.jobs.collect import Collector
from reelay.jobs.events import JobEvents, JobListener
from reelay.jobs.layout import delete_job_files, delete_outputs
from reelay.jobs.lease_keeper import LeaseKeeper
from reelay.jobs.limits import SubmitGate
from reelay.jobs.models import JobStatus, Stage, VideoJob
from reelay.jobs.queue import InProcessQueue, JobQueue
from reelay.jobs.retry import RetryPolicy
from reelay.jobs.spec import RunRecord, Target, VideoOutput
from reelay.jobs.store import DATABASE_UNAVAILABLE, JobStore, WaitingJob
from reelay.jobs.submission import InputPaths, Submitter, input_paths, targets_of
from reelay.providers.base import PollResult, Provider
from reelay.routing.breaker import CircuitBreaker
from reelay.storage.base import Storage

log = logging.getLogger("reelay.worker")

FIRST_POLL_SECONDS = 1.0  # after a submission, before the provider has said how often to ask


class JobCancelled(Exception):
    """The client cancelled or deleted the job while it ran."""


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 2  # CPU lane: local renders and collections at once
    submit_concurrency: int = 16  # intake lane: submissions at once (I/O only)
    lease_seconds: float = 30.0
    retention_seconds: float = 7 * 24 * 3600
    max_attempts: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    sweep_interval: float = 15.0
    cancel_check_interval: float = 0.5
    max_run_seconds: float = 3600.0  # a provider silent past this ends the job upstream_timeout

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.backoff_base, self.backoff_cap)


class Worker:
    def __init__(
        self,
        *,
        store: JobStore,
        storage: Storage,
        providers: Mapping[str, Provider],
        collector: Collector,
        queue: JobQueue,
        scratch_dir: Path,
        settings: WorkerSettings,
        worker_id: str | None = None,
        listeners: Sequence[JobListener] = (),
        breaker: CircuitBreaker | None = None,
        sweep_hooks: Sequence[Callable[[], Awaitable[object]]] = (),
        cpu_queue: InProcessQueue | None = None,
        gate: SubmitGate | None = None,
    ) -> None:
        self.store = store
        self.storage = storage
        self.providers = providers
        self.queue = queue  # intake (and, with a shared queue such as procrastinate, every stage)
        self.cpu_queue = cpu_queue  # the CPU lane's own queue when lanes run in this process
        self.scratch_dir = scratch_dir
        self.settings = settings
        self.retry = settings.retry
        self.worker_id = worker_id or f"worker_{uuid.uuid4().hex[:12]}"
        self.events = JobEvents(listeners)
        self.breaker = breaker or CircuitBreaker()
        self.submitter = Submitter(providers, self.breaker)
        self.collector = collector  # download, probe (in the media process) and store a finished run
        self.gate = gate or SubmitGate({}, store.in_flight_by_provider)
        self.sweep_hooks = list(sweep_hooks)  # other housekeeping on the same beat (expired idempotency keys)
        self.keeper = LeaseKeeper(
            store, self.worker_id, lease_seconds=settings.lease_seconds, check_interval=settings.cancel_check_interval
        )
        self._tasks: list[asyncio.Task[None]] = []
        # Jobs each lane is working on now, by lane: the intake hands a job to the CPU lane from inside
        # its own step, so one shared set would make the CPU lane drop it (until the next sweep).
        self._active: dict[int, set[str]] = {}

    @property
    def listeners(self) -> list[JobListener]:
        return self.events.listeners

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Hand out every job a worker should hold, then start both lanes and the sweeper."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        for due in await self.store.claimable(limit=100_000):
            self.hand_off(due.video_id, due.stage)
        lanes = [(self.queue, self.settings.submit_concurrency)]
        if self.cpu_queue is not None:
            lanes.append((self.cpu_queue, self.settings.concurrency))
        for queue, count in lanes:
            self._tasks.extend(asyncio.create_task(self._loop(queue)) for _ in range(count))
        self._tasks.append(asyncio.create_task(self._sweeper()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.keeper.stop()

    def enqueue(self, video_id: str) -> None:
        self.queue.put(video_id)

    def hand_off(self, video_id: str, stage: Stage) -> None:
        """Give the job to the lane of its stage (with one shared queue, to that queue)."""
        if stage is Stage.WAIT:
            return  # the relay's
        if self.cpu_queue is not None and stage in (Stage.RENDER, Stage.COLLECT):
            self.cpu_queue.put(video_id)
        else:
            self.queue.put(video_id)

    async def _loop(self, queue: JobQueue) -> None:
        while True:
            video_id = await queue.get()
            active = self._active.setdefault(id(queue), set())
            if video_id in active:
                continue
            active.add(video_id)
            try:
                await self.process(video_id, cpu_lane=queue is self.cpu_queue)
            except Exception:  # a bug must not kill the loop; the job stays leased and is swept later
                log.exception("worker loop error", extra={"job_id": video_id})
            finally:
                active.discard(video_id)

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed")

    async def sweep(self) -> None:
        """Hand out jobs whose lease lapsed, and delete expired or deleted jobs' files and rows."""
        for due in await self.store.claimable():
            if not any(due.video_id in lane for lane in self._active.values()):
                self.hand_off(due.video_id, due.stage)
        for video_id in await self.store.purgeable_ids():
            await self.purge(video_id)
        for hook in self.sweep_hooks:
            await hook()

    async def purge(self, video_id: str) -> None:
        await delete_job_files(self.storage, video_id)
        await self.store.purge(video_id)

    # -- one job ---------------------------------------------------------------------------------

    async def process(self, video_id: str, *, cpu_lane: bool = True) -> None:
        """Do the job's current stage if this worker can claim it. On the intake lane, CPU work is
        handed to the CPU lane instead of run."""
        job = await self.store.get(video_id, include_deleted=True)
        if job is None or job.status.finished:
            return
        if job.stage is Stage.SUBMIT:
            await self._run_stage(job.id, Stage.SUBMIT, self._intake)
        elif job.stage in (Stage.RENDER, Stage.COLLECT):
            if not cpu_lane and self.cpu_queue is not None:
                self.cpu_queue.put(job.id)
            elif job.stage is Stage.RENDER:
                await self._run_stage(job.id, Stage.RENDER, self._render)
            else:
                await self._run_stage(job.id, Stage.COLLECT, self._collect)

    async def notify(self, job: VideoJob) -> None:
        await self.events.ended(job)

    async def ended(self, video_id: str) -> None:
        """Tell the listeners about a job that has just ended."""
        job = await self.store.get(video_id, include_deleted=True)
        if job is not None and job.status.finished:
            await self.events.ended(job)

    async def _run_stage(
        self, video_id: str, stage: Stage, step: Callable[[VideoJob], Coroutine[Any, Any, None]]
    ) -> None:
        """Claim the job for ``stage``, run ``step`` under the lease keeper, and turn whatever it
        raises into the job's next state (retry, failure, cancellation, or hands off)."""
        job = await self.store.claim(
            video_id,
            self.worker_id,
            self.settings.lease_seconds,
            stages=(stage,),
            start=stage is Stage.RENDER,
            count_attempt=stage is Stage.RENDER,
        )
        if job is None:
            return
        log.info("job stage", extra={"job_id": job.id, "stage": stage.value, "provider": job.provider})
        if job.cancel_requested:
            await self.end_cancelled(job, self.worker_id)
            return
        runner = asyncio.create_task(step(job))
        watch = self.keeper.watch(job.id, runner)
        try:
            await runner
        except (JobCancelled, asyncio.CancelledError):
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # shutting down: hand the job back
                runner.cancel()
                await self.store.release(job.id, self.worker_id)
                raise
            if not watch.lease_lost:  # else another worker owns the job now: leave it to them
                fresh = await self.store.get(job.id, include_deleted=True)
                await self.end_cancelled(fresh or job, self.worker_id)
        except UpstreamError as error:
            await self._on_upstream_error(job, stage, error)
        except ReelayError as error:
            await self.fail(job.id, self.worker_id, error.code, error.message)
        except DATABASE_UNAVAILABLE:
            # The database, not the job, failed: leave the job alone. Its lease lapses and a sweep
            # picks it up again (polling the stored request id), so nothing is lost or failed.
            log.warning("database unavailable while running a job; it will be retried", extra={"job_id": job.id})
        except Exception as error:
            log.exception("job crashed", extra={"job_id": job.id})
            await self.fail(
                job.id, self.worker_id, "internal_error", f"internal error while generating: {type(error).__name__}"
            )
        finally:
            self.keeper.unwatch(job.id)
            if stage is not Stage.SUBMIT:
                shutil.rmtree(self.scratch_dir / job.id, ignore_errors=True)

    async def _on_upstream_error(self, job: VideoJob, stage: Stage, error: UpstreamError) -> None:
        """Retry a retryable error later (durably scheduled) or fail the job."""
        tries = job.attempts if stage is Stage.RENDER else job.attempts + 1
        if not self.retry.should_retry(error, tries):
            await self.fail(job.id, self.worker_id, error.code, error.message)
            return
        delay = self.retry.delay(tries, error.retry_after)
        log.warning("retrying job", extra={"job_id": job.id, "attempt": tries, "delay": delay, "code": error.code})
        # A render counted its try when claimed; a submit or collect counts it now.
        await self.store.schedule(
            job.id, self.worker_id, stage=stage, due_at=time.time() + delay, attempt_used=stage is not Stage.RENDER
        )

    async def fail(self, video_id: str, owner: str | None, code: str, message: str) -> None:
        if await self.store.fail(video_id, owner, code, message):
            await self.ended(video_id)

    async def end_cancelled(self, job: VideoJob | WaitingJob, owner: str | None) -> None:
        """Stop every run upstream (best effort), end the job ``cancelled`` and drop its outputs."""
        for run in job.runs:
            provider = self.providers.get(run.provider or job.provider)
            if provider is not None and run.upstream_id and not run.outputs:
                with contextlib.suppress(Exception):
                    await provider.cancel(run.upstream_id)
        if await self.store.cancel(job.id, owner):
            await delete_outputs(self.storage, job.id)
            await self.ended(job.id)

    # -- intake: submit every run, then wait without holding anything -----------------------------

    async def _intake(self, job: VideoJob) -> None:
        if deadline.expired(job, time.time()):  # not started upstream in time: ends expired, not charged
            message = deadline.message(job)
            if await self.store.fail(job.id, self.worker_id, "deadline_expired", message, status=JobStatus.EXPIRED):
                await self.ended(job.id)
            return
        targets = targets_of(job)
        first = self.submitter.first_available(targets)
        provider = self.providers.get(first.provider) if first is not None else None
        if first is not None and provider is not None and not provider.resumable:
            # A non-resumable provider (the local engine) runs start to end in a CPU slot.
            await self.store.set_route(job.id, self.worker_id, first.provider, first.model)
            await self.store.schedule(job.id, self.worker_id, stage=Stage.RENDER, due_at=None)
            self.hand_off(job.id, Stage.RENDER)
            return
        admission = await self.gate.admit(first.provider) if first is not None else None
        if admission is not None and not admission.allowed:
            await self.store.schedule(
                job.id,
                self.worker_id,
                stage=Stage.SUBMIT,
                due_at=time.time() + admission.retry_in,
                detail=admission.reason,
            )
            return
        waiting = False
        try:
            await self._submit_runs(job, targets)
            waiting = True
        finally:
            if admission is not None and admission.reserved and first is not None:
                await self.gate.release(first.provider, now_waiting=waiting)

    async def _submit_runs(self, job: VideoJob, targets: list[Target]) -> None:
        """Submit every run not yet upstream (key stored first, id stored at once), then wait."""
        runs = job.fresh_runs()
        paths = await input_paths(self.storage, job.spec)
        pending = [run for run in runs if not self._submitted(job, run)]
        for run in pending:
            if run.submit_key is None:  # durable BEFORE the submit: a crash after the provider took it
                run.submit_key = new_submit_key(job.id, run.index)  # a resubmission resends this key
        if pending:
            await self.store.record_runs(job.id, self.worker_id, runs)
        lock = asyncio.Lock()

        async def submit(run: RunRecord) -> None:
            target, upstream_id = await self.submitter.submit(job, run, paths, targets)
            run.provider, run.model, run.upstream_id = target.provider, target.model, upstream_id
            run.submitted_at, run.phase = time.time(), "running"
            async with lock:  # the request id is durable before anything else happens
                if len(pending) > 1:  # (a single run's id is stored by begin_wait, the next write)
                    await self.store.record_runs(job.id, self.worker_id, runs)
                if target.provider != job.provider:
                    await self.store.set_route(job.id, self.worker_id, target.provider, target.model)

        results = await asyncio.gather(*(submit(run) for run in pending), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        await self.store.begin_wait(job.id, self.worker_id, runs, due_at=time.time() + FIRST_POLL_SECONDS)
        log.info("job submitted", extra={"job_id": job.id, "runs": len(runs)})

    def _submitted(self, job: VideoJob, run: RunRecord) -> bool:
        provider = self.providers.get(run.provider or job.provider)
        if run.outputs:
            return True
        return run.upstream_id is not None and provider is not None and provider.resumable

    # -- collect: download, probe, thumbnails, store -----------------------------------------------

    async def _collect(self, job: VideoJob) -> None:
        runs = job.fresh_runs()
        for run in runs:
            if run.outputs:
                continue
            provider = self.providers.get(run.provider or job.provider)
            if provider is None or run.upstream_id is None:
                raise ReelayError("a finished run's provider is not configured on this worker", code="internal_error")
            result = PollResult("succeeded", progress=1.0, output_urls=tuple(run.output_urls))
            output = await self.collector.collect(job.id, provider, run.upstream_id, result, run.index)
            run.outputs = [output]
            await self.store.record_runs(job.id, self.worker_id, runs)
        await self._complete(job, runs)

    async def _complete(self, job: VideoJob, runs: list[RunRecord]) -> None:
        outputs = [output for run in runs for output in run.outputs]
        numbered = [VideoOutput(**{**output.__dict__, "index": index}) for index, output in enumerate(outputs)]
        if await self.store.complete(
            job.id, self.worker_id, numbered, retention_seconds=self.settings.retention_seconds
        ):
            log.info("job completed", extra={"job_id": job.id, "outputs": len(numbered)})
            await self.ended(job.id)

    # -- render: a non-resumable provider, start to end in a CPU slot ------------------------------

    async def _render(self, job: VideoJob) -> None:
        runs = job.fresh_runs()
        paths = await input_paths(self.storage, job.spec)
        targets = targets_of(job)
        position = next((i for i, t in enumerate(targets) if t.provider == job.provider), 0)
        targets = targets[position:]  # fall back only to what routing ranks after this provider
        lock = asyncio.Lock()
        progress: dict[int, float] = {}

        async def render(run: RunRecord) -> None:
            if run.outputs:
                return
            provider = self.providers.get(run.provider or job.provider)
            if run.upstream_id is None or provider is None or not provider.resumable:
                if run.submit_key is None:
                    run.submit_key = new_submit_key(job.id, run.index)
                target, upstream_id = await self.submitter.submit(job, run, paths, targets)
                provider = self.providers[target.provider]
                run.provider, run.model, run.upstream_id = target.provider, target.model, upstream_id
                run.submitted_at, run.phase = time.time(), "running"
                async with lock:
                    await self.store.record_runs(job.id, self.worker_id, runs)
            assert run.upstream_id is not None
            result = await self._wait_inline(job, provider, run, len(runs), progress)
            if result.state == "failed":
                run.reset()
                async with lock:
                    await self.store.record_runs(job.id, self.worker_id, runs)
                raise result.error or UpstreamError("the generation failed", retryable=False)
            run.reported_cost_usd = result.reported_cost_usd  # settled by billing.BillingListener
            run.outputs = [await self.collector.collect(job.id, provider, run.upstream_id, result, run.index)]
            run.phase = "succeeded"
            async with lock:
                await self.store.record_runs(job.id, self.worker_id, runs)

        results = await asyncio.gather(*(render(run) for run in runs), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        await self._complete(job, runs)

    async def _wait_inline(
        self, job: VideoJob, provider: Provider, run: RunRecord, run_count: int, progress: dict[int, float]
    ) -> PollResult:
        """Poll a render in this slot (the local engine answers at once from its process pool)."""
        assert run.upstream_id is not None
        deadline = (run.submitted_at or time.time()) + self.settings.max_run_seconds
        last_write = 0.0
        errors_in_a_row = 0
        while True:
            try:
                result = await provider.poll(run.upstream_id)
                errors_in_a_row = 0
            except UpstreamError as error:
                if not error.retryable:
                    raise
                errors_in_a_row += 1
                delay = self.retry.delay(errors_in_a_row, error.retry_after)
                if time.time() + delay > deadline:
                    raise timed_out(provider.name, run.upstream_id, self.settings.max_run_seconds) from error
                await asyncio.sleep(delay)
                continue
            if result.finished:
                progress[run.index] = 1.0
                return result
            if result.progress is not None:
                progress[run.index] = result.progress
                if time.monotonic() - last_write > 0.5:
                    last_write = time.monotonic()
                    overall = sum(progress.values()) / max(1, run_count)
                    await self.store.set_progress(job.id, self.worker_id, int(overall * 95))
            if time.time() > deadline:
                with contextlib.suppress(Exception):
                    await provider.cancel(run.upstream_id)
                raise timed_out(provider.name, run.upstream_id, self.settings.max_run_seconds)
            await asyncio.sleep(result.poll_after)


def new_submit_key(video_id: str, index: int) -> str:
    """The Idempotency-Key of one run's submission, stored before the submit is sent."""
    return f"reelay-{video_id}-{index}-{uuid.uuid4().hex[:8]}"


def timed_out(provider: str, upstream_id: str, max_run_seconds: float) -> UpstreamTimeout:
    return UpstreamTimeout(
        f"{provider} did not finish request {upstream_id} within {max_run_seconds:.0f} s; the job was stopped",
        retryable=False,
    )


__all__ = ["InputPaths", "JobCancelled", "JobListener", "JobStatus", "Worker", "WorkerSettings", "timed_out"]
