"""The relay: polls every job that waits on a provider, from a durable schedule, in batches.

A submitted job holds nothing while its provider works: no worker slot, no task, no coroutine. Its
row says when it is next due (``due_at``); the relay's one loop per process leases what is due
(``JobStore.claim_due_polls``: oldest first, ``SKIP LOCKED`` so many processes share the work and
none polls a job twice), polls each run at the provider's pace (``PollResult.poll_after``, which
adapters derive from ``Retry-After``, ``openai-poll-after-ms`` or the provider's documented
interval), and writes the whole batch back in one statement. A job whose runs all finished goes to
the CPU lane to be collected; a failed generation is retried (``RetryPolicy``) or fails the job; a
job the client cancelled is stopped upstream. A process that dies mid-poll loses nothing: the lease
lapses and another relay polls the job again.

The same loop wakes jobs whose retry backoff or provider-limit wait is over (``due_jobs``), within
each provider's in-flight limit, and hands them to a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from reelay.errors import UpstreamError
from reelay.jobs.limits import SubmitGate
from reelay.jobs.models import Stage
from reelay.jobs.retry import RetryPolicy
from reelay.jobs.spec import RunRecord
from reelay.jobs.store import PollUpdate, WaitingJob
from reelay.jobs.worker import Worker, timed_out
from reelay.providers.base import PollResult, Provider

log = logging.getLogger("reelay.relay")


@dataclass(frozen=True)
class RelaySettings:
    concurrency: int = 256  # polls in flight at once, across all providers: polls/s ≈ this / provider latency
    batch: int = 200  # jobs leased per claim
    tick_seconds: float = 0.2  # how often an idle relay looks for due work
    busy_tick_seconds: float = 0.05  # with polls in flight: write finished polls, lease more
    lease_seconds: float = 30.0
    poll_timeout: float = 15.0  # one poll; a slower answer counts as a transient error
    min_poll_seconds: float = 0.5
    max_poll_seconds: float = 30.0
    max_run_seconds: float = 3600.0


class Relay:
    def __init__(
        self,
        *,
        worker: Worker,
        providers: Mapping[str, Provider],
        settings: RelaySettings,
        retry: RetryPolicy,
        gate: SubmitGate,
    ) -> None:
        self.worker = worker
        self.store = worker.store
        self.providers = providers
        self.settings = settings
        self.retry = retry
        self.gate = gate
        self.owner = f"relay_{uuid.uuid4().hex[:12]}"
        self._inflight: set[asyncio.Task[None]] = set()
        self._pending: list[PollUpdate] = []
        self._task: asyncio.Task[None] | None = None
        self.polls = 0  # polls sent since start (for benchmarks and metrics)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        for task in list(self._inflight):
            task.cancel()
        for task in list(self._inflight):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._flush()

    async def _loop(self) -> None:
        woken_at = 0.0
        while True:
            try:
                busy = await self.tick()
                if time.monotonic() - woken_at >= self.settings.tick_seconds:
                    woken_at = time.monotonic()
                    await self.wake_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database blinked: the schedule is durable, try again shortly
                log.exception("relay tick failed")
                busy = False
            await asyncio.sleep(self.settings.busy_tick_seconds if busy else self.settings.tick_seconds)

    async def tick(self) -> bool:
        """One round: write finished polls, lease what is due. True while polls are in flight."""
        await self._flush()
        capacity = self.settings.concurrency - len(self._inflight)
        claimed: list[WaitingJob] = []
        if capacity > 0:
            claimed = await self.store.claim_due_polls(
                self.owner,
                self.settings.lease_seconds,
                limit=min(self.settings.batch, capacity),
                providers=list(self.providers),
            )
        for job in claimed:
            task = asyncio.create_task(self._poll_job(job))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return bool(claimed) or bool(self._inflight) or bool(self._pending)

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        await self.store.save_polls(self.owner, batch)
        for update in batch:
            if update.stage is Stage.COLLECT:
                self.worker.hand_off(update.video_id, Stage.COLLECT)

    async def wake_due(self) -> int:
        """Hand jobs whose backoff or limit wait is over back to a worker, within provider limits."""
        due = await self.store.due_jobs()
        if not due:
            return 0
        counts: dict[str, int] | None = None
        chosen: list[str] = []
        stages: dict[str, Stage] = {}
        taken_per_provider: dict[str, int] = {}
        for job in due:
            if job.stage is Stage.SUBMIT and self.gate.limited(job.provider):
                if counts is None:
                    counts = await self.store.in_flight_by_provider()
                available = self.gate.available(job.provider, counts)
                if available is not None and taken_per_provider.get(job.provider, 0) >= available:
                    continue
                taken_per_provider[job.provider] = taken_per_provider.get(job.provider, 0) + 1
            chosen.append(job.video_id)
            stages[job.video_id] = job.stage
        for video_id in await self.store.take_due(chosen):
            self.worker.hand_off(video_id, stages[video_id])
        return len(chosen)

    # -- one job ---------------------------------------------------------------------------------

    async def _poll_job(self, job: WaitingJob) -> None:
        try:
            update = await self._decide(job)  # at most ``concurrency`` of these: ``tick`` leases no more
            if update is not None:
                self._pending.append(update)
        except asyncio.CancelledError:
            raise
        except Exception:  # the lease lapses and the job is polled again; nothing is lost
            log.exception("poll failed", extra={"job_id": job.id})

    async def _decide(self, job: WaitingJob) -> PollUpdate | None:
        """Poll every unfinished run of ``job`` and decide what happens next. Endings (failed,
        cancelled, back to submit) are written here; a still-waiting or finished job is returned
        for the batch write."""
        if job.cancel_requested:
            await self.worker.end_cancelled(job, self.owner)
            return None
        runs = job.fresh_runs()
        now = time.time()
        unfinished = [run for run in runs if not run.outputs and run.phase != "succeeded"]
        if any(run.upstream_id is None for run in unfinished):  # never submitted: back to intake
            await self.store.schedule(job.id, self.owner, stage=Stage.SUBMIT, due_at=None, runs=runs)
            self.worker.hand_off(job.id, Stage.SUBMIT)
            return None
        if len(unfinished) == 1:  # the usual case (n = 1): no task per run
            results: list[float | UpstreamError] = [await self._poll_run(job, unfinished[0])]
        else:
            results = list(await asyncio.gather(*(self._poll_run(job, run) for run in unfinished)))
        tries = job.attempts + 1  # failed tries so far, this one included
        next_due: list[float] = []
        resubmit_after: float | None = None
        for run, outcome in zip(unfinished, results, strict=True):
            if isinstance(outcome, UpstreamError):  # the generation failed, or the provider gave up on it
                if self.retry.should_retry(outcome, tries):
                    run.reset()
                    delay = self.retry.delay(tries, outcome.retry_after)
                    resubmit_after = max(resubmit_after or 0.0, delay)
                    continue
                await self._cancel_others(job, runs, run)
                await self.worker.fail(job.id, self.owner, outcome.code, outcome.message)
                return None
            if outcome != _FINISHED:
                next_due.append(outcome)
        if resubmit_after is not None:
            log.warning("generation failed upstream; resubmitting", extra={"job_id": job.id, "delay": resubmit_after})
            await self.store.schedule(
                job.id, self.owner, stage=Stage.SUBMIT, due_at=now + resubmit_after, runs=runs, attempt_used=True
            )
            return None
        progress = int(sum(_run_progress(run) for run in runs) / max(1, len(runs)) * 95)
        if not next_due:
            return PollUpdate(job.id, runs, progress, Stage.COLLECT, None)
        return PollUpdate(job.id, runs, progress, Stage.WAIT, min(next_due), visible=progress != job.progress)

    async def _poll_run(self, job: WaitingJob, run: RunRecord) -> float | UpstreamError:
        """Poll one run: when to poll it next (``_FINISHED`` once it succeeded), or the error that
        ends it."""
        assert run.upstream_id is not None
        name = run.provider or job.provider
        provider = self.providers.get(name)
        now = time.time()
        if provider is None:  # another worker polls it (this one lacks the provider's key)
            return now + self.settings.max_poll_seconds
        deadline = (run.submitted_at or now) + self.settings.max_run_seconds
        self.polls += 1
        try:
            async with asyncio.timeout(self.settings.poll_timeout):  # no task per poll, unlike wait_for
                result = await provider.poll(run.upstream_id)
            run.poll_errors = 0
        except (UpstreamError, TimeoutError) as raised:
            error = raised if isinstance(raised, UpstreamError) else UpstreamError("the poll timed out", retryable=True)
            if not error.retryable:
                return error
            run.poll_errors += 1
            delay = self.retry.delay(run.poll_errors, error.retry_after)
            log.warning("poll failed", extra={"job_id": job.id, "code": error.code, "delay": delay})
            answered = time.time()  # Retry-After counts from the answer, not from when the poll went out
            if answered + delay > deadline:
                return timed_out(name, run.upstream_id, self.settings.max_run_seconds)
            return answered + delay
        return self._apply(job, provider, run, result, time.time(), deadline)

    def _apply(
        self, job: WaitingJob, provider: Provider, run: RunRecord, result: PollResult, now: float, deadline: float
    ) -> float | UpstreamError:
        if result.state == "succeeded":
            run.phase, run.progress, run.output_urls = "succeeded", 1.0, list(result.output_urls)
            run.reported_cost_usd = result.reported_cost_usd  # settled by billing.BillingListener
            return _FINISHED
        if result.state == "failed":
            return result.error or UpstreamError("the generation failed upstream", retryable=False)
        run.phase = "running"
        if result.progress is not None:
            run.progress = result.progress
        if now > deadline:
            asyncio.get_running_loop().create_task(_quiet_cancel(provider, run.upstream_id or ""))
            return timed_out(provider.name, run.upstream_id or "", self.settings.max_run_seconds)
        pause = min(self.settings.max_poll_seconds, max(self.settings.min_poll_seconds, result.poll_after))
        return now + pause

    async def _cancel_others(self, job: WaitingJob, runs: list[RunRecord], failed: RunRecord) -> None:
        """The job failed: stop its other runs upstream instead of paying for them."""
        for run in runs:
            if run is failed or run.outputs or run.upstream_id is None or run.phase == "succeeded":
                continue
            provider = self.providers.get(run.provider or job.provider)
            if provider is not None:
                await _quiet_cancel(provider, run.upstream_id)


_FINISHED = float("-inf")  # sentinel: the run is done, nothing to schedule for it


def _run_progress(run: RunRecord) -> float:
    if run.outputs or run.phase == "succeeded":
        return 1.0
    return run.progress or 0.0


async def _quiet_cancel(provider: Provider, upstream_id: str) -> None:
    with contextlib.suppress(Exception):
        await provider.cancel(upstream_id)


__all__ = ["Relay", "RelaySettings"]
