"""The built-in local engine as a provider: renders in a child process, reports progress, cancels.

It is not resumable: a render that was running when the process died is simply rendered again
(it is free and deterministic). Sizes outside the engine's bounds (e.g. a 1365x768 card size in demo
mode) are scaled to fit, keeping the ratio, and the real output size is what the job records.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from reelay.errors import InvalidMedia, UpstreamError
from reelay.procpool import ProcessPool, RenderOutOfMemory, TaskKilled, is_broken_pool
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.local_render import render_job
from reelay.providers.pool_runs import poll_pool_run

MAX_LONG_SIDE = 1280
MAX_SHORT_SIDE = 720


def fit_to_engine(width: int, height: int) -> tuple[int, int]:
    """Scale (width, height) down into the engine's 1280x720 / 720x1280 bounds; even numbers."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, MAX_LONG_SIDE / long_side, MAX_SHORT_SIDE / short_side)

    def even(value: float, limit: int) -> int:
        return max(64, min(limit, round(value / 2) * 2))

    if width >= height:
        return even(width * scale, MAX_LONG_SIDE), even(height * scale, MAX_SHORT_SIDE)
    return even(width * scale, MAX_SHORT_SIDE), even(height * scale, MAX_LONG_SIDE)


@dataclass
class _Render:
    future: asyncio.Future[dict[str, object]]
    folder: Path

    @property
    def output(self) -> Path:
        return self.folder / "out.mp4"

    @property
    def progress_file(self) -> Path:
        return self.folder / "progress"

    @property
    def cancel_file(self) -> Path:
        return self.folder / "cancel"


class LocalProvider:
    name = "local"
    resumable = False

    def __init__(self, pool: ProcessPool, work_dir: Path) -> None:
        self._pool = pool
        self._work_dir = work_dir
        self._renders: dict[str, _Render] = {}

    async def submit(self, job: ProviderJob) -> str:
        upstream_id = f"local_{uuid.uuid4().hex}"
        folder = self._work_dir / upstream_id
        folder.mkdir(parents=True, exist_ok=True)
        width, height = fit_to_engine(job.width, job.height)
        seed = job.seed if job.seed is not None else 0
        future = self._pool.submit(
            render_job,
            mode="extend" if job.operation == "extend" else job.mode,
            prompt=job.prompt,
            width=width,
            height=height,
            seconds=job.seconds,
            seed=seed + job.index,
            audio=job.audio,
            image_path=str(job.image_path) if job.image_path else None,
            video_path=str(job.video_path) if job.video_path else None,
            folder=str(folder),
        )
        self._renders[upstream_id] = _Render(future=future, folder=folder)
        return upstream_id

    async def poll(self, upstream_id: str) -> PollResult:
        render = self._renders.get(upstream_id)
        if render is None:
            raise UpstreamError(
                "the local render was lost when the process restarted", retryable=True, code="upstream_lost"
            )
        return await poll_pool_run(render.future, render.progress_file, _as_upstream_error)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        render = self._renders.pop(upstream_id)
        await asyncio.to_thread(shutil.move, render.output, destination)
        shutil.rmtree(render.folder, ignore_errors=True)

    async def cancel(self, upstream_id: str) -> None:
        """Stop the render now: its process is killed (and replaced), not asked to stop at a frame."""
        render = self._renders.get(upstream_id)
        if render is not None:
            with contextlib.suppress(OSError):
                render.cancel_file.touch()  # for a render between frames in a process that outlives kill
            render.future.add_done_callback(_read_outcome)  # nobody polls a cancelled render
            self._pool.kill(render.future)

    def discard(self, upstream_id: str) -> None:
        render = self._renders.pop(upstream_id, None)
        if render is not None:
            self._pool.kill(render.future)
            shutil.rmtree(render.folder, ignore_errors=True)


def _read_outcome(done: asyncio.Future[dict[str, object]]) -> None:
    """Read a cancelled render's outcome, so asyncio does not log it as an exception never retrieved."""
    if not done.cancelled():
        done.exception()


def _as_upstream_error(error: BaseException) -> UpstreamError:
    if isinstance(error, InvalidMedia):
        return UpstreamError(error.message, retryable=False, code=error.code)
    if error.__class__.__name__ == "RenderCancelled" or isinstance(error, TaskKilled):
        return UpstreamError("the render was cancelled", retryable=False, code="cancelled")
    if isinstance(error, RenderOutOfMemory):
        return UpstreamError(
            f"the render ran out of memory ({error}); send a smaller input or raise REELAY_RENDER_MEMORY_MB",
            retryable=False,
            code="render_out_of_memory",
        )
    if is_broken_pool(error):
        return UpstreamError("the render process died", retryable=True, code="render_crashed")
    return UpstreamError(f"the local engine failed: {error}", retryable=False, code="render_failed")
