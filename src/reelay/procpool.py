"""A process pool for CPU-bound media work (rendering, probing, thumbnails).

Rendering in worker processes keeps the event loop, and so the API's latency, free of the GIL
held by frame synthesis. A pool broken by a crashed child is replaced on the next call.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def _warm() -> None:
    """Import the heavy media modules once per child, so the first job does not pay for it."""
    import reelay.engine  # noqa: F401


class ProcessPool:
    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
        return self._executor

    def warm_up(self) -> list[Future[None]]:
        """Start the children now rather than on the first job; the futures end when they are ready."""
        return [self._pool().submit(_warm) for _ in range(self.processes)]

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """Run ``fn`` in a child; the returned future can be awaited or polled."""
        try:
            future: Future[T] = self._pool().submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            self._replace()
            future = self._pool().submit(fn, *args, **kwargs)
        return asyncio.wrap_future(future)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await self.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            self._replace()
            raise

    def _replace(self) -> None:
        old, self._executor = self._executor, None
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def is_broken_pool(error: BaseException) -> bool:
    return isinstance(error, BrokenProcessPool)


__all__ = ["ProcessPool", "is_broken_pool"]
