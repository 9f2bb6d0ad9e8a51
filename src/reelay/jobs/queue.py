"""The queue seam: how job ids reach workers.

The embedded default is an in-process asyncio queue; the durable state is always the job row, so a
lost queue entry costs only latency: the worker's sweep finds unleased unfinished jobs again.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class JobQueue(Protocol):
    def put(self, video_id: str) -> None: ...

    async def get(self) -> str: ...

    def __contains__(self, video_id: object) -> bool: ...


class InProcessQueue:
    """FIFO of job ids with de-duplication (an id waits in the queue at most once)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: set[str] = set()

    def put(self, video_id: str) -> None:
        if video_id not in self._waiting:
            self._waiting.add(video_id)
            self._queue.put_nowait(video_id)

    async def get(self) -> str:
        video_id = await self._queue.get()
        self._waiting.discard(video_id)
        return video_id

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._waiting

    def qsize(self) -> int:
        return self._queue.qsize()
