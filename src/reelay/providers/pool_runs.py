"""Polling a run that this process's own pool works on (the local engine, the diffusers engine).

Such a run is a future in this process and a folder its worker process writes progress into; a poll
waits briefly on the future instead of sleeping blindly, so a finished run is seen at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelay.errors import UpstreamError
from reelay.providers.base import PollResult


async def poll_pool_run(
    future: asyncio.Future[Any], progress_file: Path, as_error: Callable[[BaseException], UpstreamError]
) -> PollResult:
    """Running (with the progress the worker last wrote), succeeded, or failed as ``as_error`` says."""
    await asyncio.wait({future}, timeout=0.25)
    if not future.done():
        return PollResult("running", progress=read_progress(progress_file), poll_after=0.0)
    error = future.exception()
    if error is None:
        return PollResult("succeeded", progress=1.0)
    return PollResult("failed", error=as_error(error))


def read_progress(path: Path) -> float | None:
    """The fraction a worker process last wrote to ``path``; None before it wrote one."""
    try:
        return float(path.read_text() or 0)
    except (OSError, ValueError):
        return None


__all__ = ["poll_pool_run", "read_progress"]
