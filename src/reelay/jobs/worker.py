"""The worker: takes queued jobs to completed, failed or cancelled, and never loses one.

For each job it holds a lease (renewed, with every other running job's, by one ``LeaseKeeper``),
asks the provider for each of the job's runs (``n`` emulated = n parallel runs), stores every
provider request id the moment it is known, polls with the provider's pacing, downloads and
post-processes the output, and ends the job in one transaction. On start it re-queues every
unfinished job: resumable providers are polled again with the stored id; the local engine simply
renders again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from reelay.errors import AllProvidersExhausted, ReelayError, UpstreamError, UpstreamTimeout
from reelay.jobs.lease_keeper import LeaseKeeper
from reelay.jobs.models import JobStatus, VideoJob, VideoOutput
from reelay.jobs.postprocess import postprocess_video
from reelay.jobs.queue import JobQueue
from reelay.jobs.store import DATABASE_UNAVAILABLE, JobStore
from reelay.procpool import ProcessPool
from reelay.providers.base import PollResult, Provider, ProviderJob
from reelay.routing.breaker import CircuitBreaker
from reelay.storage.base import Storage

log = logging.getLogger("reelay.worker")


class JobListener(Protocol):
    """Told once a job has ended (completed, failed or cancelled): webhooks, metrics, logs."""

    async def job_finished(self, job: VideoJob) -> None: ...


class JobCancelled(Exception):
    """The client cancelled or deleted the job while it ran."""


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 2
    lease_seconds: float = 30.0
    retention_seconds: float = 7 * 24 * 3600
    max_attempts: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    sweep_interval: float = 15.0
    cancel_check_interval: float = 0.5
    max_run_seconds: float = 3600.0  # a provider silent past this ends the job upstream_timeout


def counts_against_provider(error: UpstreamError) -> bool:
    """Failures that say something about the provider's health (not about the request)."""
    return error.retryable or error.code == "upstream_auth_failed"


def output_keys(video_id: str, index: int) -> tuple[str, str, str]:
    """Storage keys of one output: the MP4, its poster and its spritesheet."""
    base = f"videos/{video_id}/{index}"
    return f"{base}.mp4", f"{base}.thumbnail.jpg", f"{base}.spritesheet.jpg"


class Worker:
    def __init__(
        self,
        *,
        store: JobStore,
        storage: Storage,
        providers: Mapping[str, Provider],
        pool: ProcessPool,
        queue: JobQueue,
        scratch_dir: Path,
        settings: WorkerSettings,
        worker_id: str | None = None,
        listeners: Sequence[JobListener] = (),
        breaker: CircuitBreaker | None = None,
        sweep_hooks: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self.store = store
        self.storage = storage
        self.providers = providers
        self.pool = pool
        self.queue = queue
        self.scratch_dir = scratch_dir
        self.settings = settings
        self.worker_id = worker_id or f"worker_{uuid.uuid4().hex[:12]}"
        self._tasks: list[asyncio.Task[None]] = []
        self._active: set[str] = set()
        self._retry_handles: list[asyncio.TimerHandle] = []
        self.listeners = list(listeners)
        self.breaker = breaker or CircuitBreaker()
        self.sweep_hooks = list(sweep_hooks)  # other housekeeping on the same beat (expired idempotency keys)
        self.keeper = LeaseKeeper(
            store, self.worker_id, lease_seconds=settings.lease_seconds, check_interval=settings.cancel_check_interval
        )

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Re-queue every unfinished job, then start the worker loops and the sweeper."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        for video_id in await self.store.claimable_ids(limit=100_000):
            self.queue.put(video_id)
        for _ in range(self.settings.concurrency):
            self._tasks.append(asyncio.create_task(self._loop()))
        self._tasks.append(asyncio.create_task(self._sweeper()))

    async def stop(self) -> None:
        for handle in self._retry_handles:
            handle.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.keeper.stop()

    def enqueue(self, video_id: str) -> None:
        self.queue.put(video_id)

    async def _loop(self) -> None:
        while True:
            video_id = await self.queue.get()
            if video_id in self._active:
                continue
            self._active.add(video_id)
            try:
                await self.process(video_id)
            except Exception:  # a bug must not kill the loop; the job stays leased and is swept later
                log.exception("worker loop error", extra={"job_id": video_id})
            finally:
                self._active.discard(video_id)

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed")

    async def sweep(self) -> None:
        """Pick up jobs whose lease lapsed, and delete expired or deleted jobs' files and rows."""
        for video_id in await self.store.claimable_ids():
            if video_id not in self._active and video_id not in self.queue:
                self.queue.put(video_id)
        for video_id in await self.store.purgeable_ids():
            await self.purge(video_id)
        for hook in self.sweep_hooks:
            await hook()

    async def purge(self, video_id: str) -> None:
        await self.storage.delete_prefix(f"videos/{video_id}/")
        await self.storage.delete_prefix(f"inputs/{video_id}/")
        await self.store.purge(video_id)

    # -- one job ---------------------------------------------------------------------------------

    async def process(self, video_id: str) -> None:
        """Run one job if we can claim it; tell the listeners if it ended here."""
        if await self._process(video_id):
            job = await self.store.get(video_id, include_deleted=True)
            if job is not None and job.status.finished:
                await self.notify(job)

    async def notify(self, job: VideoJob) -> None:
        """Tell every listener the job ended; a failing listener is logged, never fatal."""
        for listener in self.listeners:
            try:
                await listener.job_finished(job)
            except Exception:
                log.exception("job listener failed", extra={"job_id": job.id})

    async def _process(self, video_id: str) -> bool:
        """Claim and run the job; True if this call ended it (completed, failed or cancelled)."""
        job = await self.store.claim(video_id, self.worker_id, self.settings.lease_seconds)
        if job is None:
            return False
        log.info("job started", extra={"job_id": job.id, "provider": job.provider, "attempt": job.attempts})
        if job.cancel_requested:
            await self._end_cancelled(job)
            return True
        runner = asyncio.create_task(self._execute(job))
        watch = self.keeper.watch(job.id, runner)
        try:
            outputs = await runner
        except (JobCancelled, asyncio.CancelledError):
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # shutting down: hand the job back
                runner.cancel()
                await self.store.release(job.id, self.worker_id)
                raise
            if watch.lease_lost:  # another worker owns the job now: leave it to them
                return False
            await self._end_cancelled(job)
            return True
        except UpstreamError as error:
            return await self._on_upstream_error(job, error)
        except ReelayError as error:
            return await self.store.fail(job.id, self.worker_id, error.code, error.message)
        except DATABASE_UNAVAILABLE:
            # The database, not the job, failed: leave the job alone. Its lease lapses and a sweep picks
            # it up again (polling the stored request id), so nothing is lost and nothing is failed.
            log.warning("database unavailable while running a job; it will be retried", extra={"job_id": job.id})
            return False
        except Exception as error:
            log.exception("job crashed", extra={"job_id": job.id})
            return await self.store.fail(
                job.id, self.worker_id, "internal_error", f"internal error while generating: {type(error).__name__}"
            )
        finally:
            self.keeper.unwatch(job.id)
            shutil.rmtree(self.scratch_dir / job.id, ignore_errors=True)
        ended = await self.store.complete(
            job.id, self.worker_id, outputs, retention_seconds=self.settings.retention_seconds
        )
        log.info("job completed", extra={"job_id": job.id, "outputs": len(outputs)})
        return ended

    async def _on_upstream_error(self, job: VideoJob, error: UpstreamError) -> bool:
        """Retry a retryable error (False: the job goes on) or fail the job (True: it ended)."""
        if error.retryable and job.attempts < self.settings.max_attempts:
            delay = self._backoff(job.attempts, error.retry_after)
            log.warning(
                "retrying job",
                extra={"job_id": job.id, "attempt": job.attempts, "delay": delay, "code": error.code},
            )
            await self.store.release(job.id, self.worker_id)
            handle = asyncio.get_running_loop().call_later(delay, self.queue.put, job.id)
            self._retry_handles.append(handle)
            return False
        return await self.store.fail(job.id, self.worker_id, error.code, error.message)

    async def _end_cancelled(self, job: VideoJob) -> None:
        provider = self.providers.get(job.provider)
        if provider is not None:
            for run in job.runs:
                if run.get("upstream_id") and not run.get("output"):
                    with contextlib.suppress(Exception):
                        await provider.cancel(run["upstream_id"])
        await self.store.cancel(job.id, None)
        await self.storage.delete_prefix(f"videos/{job.id}/")

    # -- the runs of a job -----------------------------------------------------------------------

    async def _execute(self, job: VideoJob) -> list[VideoOutput]:
        request = job.request
        count = job.n if request.get("emulate_n", True) else 1
        runs = job.runs or [{"index": i} for i in range(count)]
        image_path, video_path, reference_paths = await self._input_paths(request)
        lock = asyncio.Lock()
        progress: dict[int, float] = {}

        def provider_job(index: int, model: str, idempotency_key: str | None = None) -> ProviderJob:
            return ProviderJob(
                video_id=job.id,
                index=index,
                model=model,
                mode=request["mode"],
                prompt=request["prompt"],
                width=int(request["width"]),
                height=int(request["height"]),
                seconds=float(request["seconds"]),
                seed=request.get("seed"),
                audio=bool(request.get("audio", True)),
                image_path=image_path,
                video_path=video_path,
                reference_paths=reference_paths,
                n=1 if request.get("emulate_n", True) else job.n,
                passthrough=request.get("passthrough") or {},
                operation=request.get("operation", "generate"),
                aspect_ratio=request.get("aspect_ratio"),
                resolution=request.get("upstream_resolution") or request.get("resolution"),
                idempotency_key=idempotency_key,
            )

        async def run_one(run: dict[str, Any]) -> list[VideoOutput]:
            return await self._run(job, run, runs, lock, progress, provider_job)

        results = await asyncio.gather(*(run_one(run) for run in runs))
        outputs = [o for result in results for o in result]
        return [VideoOutput(**{**asdict(o), "index": i}) for i, o in enumerate(outputs)]

    async def _input_paths(self, request: Mapping[str, Any]) -> tuple[Path | None, Path | None, tuple[Path, ...]]:
        """Local paths of the job's stored inputs: the first frame (image-to-video) or every reference
        image (reference-to-video), and the input video. A stored input gone missing fails the job."""
        inputs = request.get("inputs") or {}
        as_references = request.get("reference_mode") == "references"
        if as_references:
            image_keys = list(inputs.get("references", []))
        else:
            image_keys = [inputs["image"]] if inputs.get("image") else []
        images = [await self.storage.local_path(key) for key in image_keys]
        video = await self.storage.local_path(inputs["video"]) if inputs.get("video") else None
        if any(path is None for path in images) or (inputs.get("video") and video is None):
            raise ReelayError("an input file of this job is missing from storage", code="input_missing")
        found = tuple(path for path in images if path is not None)
        if as_references:
            return None, video, found
        return (found[0] if found else None), video, ()

    async def _run(
        self,
        job: VideoJob,
        run: dict[str, Any],
        runs: list[dict[str, Any]],
        lock: asyncio.Lock,
        progress: dict[int, float],
        provider_job: Callable[[int, str, str | None], ProviderJob],
    ) -> list[VideoOutput]:
        index = int(run["index"])
        if run.get("outputs"):
            return [VideoOutput(**o) for o in run["outputs"]]
        name = run.get("provider") or job.provider
        provider = self.providers.get(name)
        upstream_id = run.get("upstream_id")
        if upstream_id is None or provider is None or not provider.resumable:
            if "submit_key" not in run:  # durable BEFORE the submit: a crash after the provider took it
                run["submit_key"] = f"reelay-{job.id}-{index}-{uuid.uuid4().hex[:8]}"  # resends this key
                async with lock:
                    await self.store.record_runs(job.id, self.worker_id, runs)
            name, model, upstream_id = await self._submit(job, index, run["submit_key"], provider_job)
            provider = self.providers[name]
            run.update(upstream_id=upstream_id, provider=name, model=model, submitted_at=time.time())
            async with lock:  # the request id is durable before we wait for anything
                await self.store.record_runs(job.id, self.worker_id, runs)
                if name != job.provider:
                    await self.store.set_route(job.id, self.worker_id, name, model)
        result = await self._wait(job, provider, run, runs, progress)
        if result.state == "failed":
            run.pop("upstream_id", None)  # a failed generation is submitted afresh on retry,
            run.pop("submit_key", None)  # under a new key, or an idempotent upstream replays the failure
            async with lock:
                await self.store.record_runs(job.id, self.worker_id, runs)
            assert result.error is not None
            raise result.error
        outputs = await self._collect(job, provider, upstream_id, result, index)
        run["outputs"] = [asdict(o) for o in outputs]
        async with lock:
            await self.store.record_runs(job.id, self.worker_id, runs)
        return outputs

    async def _submit(
        self,
        job: VideoJob,
        index: int,
        submit_key: str,
        provider_job: Callable[[int, str, str | None], ProviderJob],
    ) -> tuple[str, str, str]:
        """Submit to the first target that takes it: (provider name, model, upstream id).

        Targets whose circuit is open are skipped unless they are the last hope. A content-policy
        refusal is final: another provider is not asked to generate what one refused.
        """
        targets = job.request.get("targets") or [{"provider": job.provider, "model": job.executed_model}]
        failures: list[UpstreamError] = []
        reasons: list[str] = []
        for position, target in enumerate(targets):
            name, model = str(target["provider"]), str(target["model"])
            provider = self.providers.get(name)
            if provider is None:
                reasons.append(f"{name}: not configured on this worker")
                continue
            if not self.breaker.allow(name) and position < len(targets) - 1:
                reasons.append(f"{name}: taken out of the pool after repeated failures")
                continue
            try:
                upstream_id = await provider.submit(provider_job(index, model, submit_key))
            except UpstreamError as error:
                if counts_against_provider(error):
                    self.breaker.record_failure(name)
                if error.code == "content_policy_violation":
                    raise
                log.warning("submit failed", extra={"job_id": job.id, "provider": name, "code": error.code})
                failures.append(error)
                reasons.append(f"{name}: {error.message}")
                continue
            self.breaker.record_success(name)
            return name, model, upstream_id
        if len(failures) == 1 and len(targets) == 1:
            raise failures[0]
        raise AllProvidersExhausted(
            "no provider could take the job: " + "; ".join(reasons),
            retryable=any(f.retryable for f in failures) or not failures,
        )

    async def _wait(
        self,
        job: VideoJob,
        provider: Provider,
        run: dict[str, Any],
        runs: list[dict[str, Any]],
        progress: dict[int, float],
    ) -> PollResult:
        """Poll at the provider's pace; back off on transient errors; give up at the deadline.

        The deadline counts from the run's submission time (stored), so it survives restarts: a
        provider that went silent ends the job ``upstream_timeout`` instead of leaving it running.
        """
        index, upstream_id = int(run["index"]), str(run["upstream_id"])
        deadline = float(run.get("submitted_at") or time.time()) + self.settings.max_run_seconds
        last_write = 0.0
        errors_in_a_row = 0
        while True:
            try:
                result = await provider.poll(upstream_id)
                errors_in_a_row = 0
            except UpstreamError as error:
                if not error.retryable:
                    raise
                errors_in_a_row += 1
                delay = self._backoff(errors_in_a_row, error.retry_after)
                log.warning("poll failed", extra={"job_id": job.id, "code": error.code, "delay": delay})
                if time.time() + delay > deadline:
                    raise self._timed_out(provider, upstream_id) from error
                await asyncio.sleep(delay)
                continue
            if result.finished:
                progress[index] = 1.0
                return result
            if result.progress is not None:
                progress[index] = result.progress
                if time.monotonic() - last_write > 0.5:
                    last_write = time.monotonic()
                    overall = sum(progress.values()) / max(1, len(runs))
                    await self.store.set_progress(job.id, self.worker_id, int(overall * 95))
            if time.time() > deadline:
                with contextlib.suppress(Exception):
                    await provider.cancel(upstream_id)
                raise self._timed_out(provider, upstream_id)
            await asyncio.sleep(result.poll_after)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Jittered exponential backoff (±50 %), never sooner than the provider's Retry-After."""
        delay = min(self.settings.backoff_cap, self.settings.backoff_base * 2.0 ** (attempt - 1))
        return max(delay * random.uniform(0.5, 1.5), retry_after or 0.0)

    def _timed_out(self, provider: Provider, upstream_id: str) -> UpstreamTimeout:
        return UpstreamTimeout(
            f"{provider.name} did not finish request {upstream_id} within {self.settings.max_run_seconds:.0f} s; "
            "the job was stopped",
            retryable=False,
        )

    async def _collect(
        self, job: VideoJob, provider: Provider, upstream_id: str, result: PollResult, index: int
    ) -> list[VideoOutput]:
        folder = self.scratch_dir / job.id
        folder.mkdir(parents=True, exist_ok=True)
        local = folder / f"{index}.mp4"
        await provider.fetch_output(upstream_id, result, local)
        video_key, thumb_key, sprite_key = output_keys(job.id, index)
        thumb, sprite = folder / f"{index}.thumbnail.jpg", folder / f"{index}.spritesheet.jpg"
        info = await self.pool.run(postprocess_video, str(local), str(thumb), str(sprite))
        size = await self.storage.put_file(video_key, local)
        await self.storage.put_file(thumb_key, thumb)
        await self.storage.put_file(sprite_key, sprite)
        return [
            VideoOutput(
                index=index,
                key=video_key,
                width=info.width,
                height=info.height,
                seconds=info.seconds,
                has_audio=info.has_audio,
                bytes=size,
                thumbnail_key=thumb_key,
                spritesheet_key=sprite_key,
            )
        ]


__all__ = ["JobCancelled", "JobStatus", "Worker", "WorkerSettings", "output_keys"]
