"""How the runtime lays out its media work: local renders in their pool, every collected video in one
media process, both stopped after ``REELAY_PROCESS_IDLE_SECONDS`` idle, previews made on first read
with local storage; and the server's heap is trimmed on a beat (``reelay.heap``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reelay import runtime as runtime_module
from reelay.config import Settings
from reelay.jobs.previews import OnDemandPreviews
from reelay.procpool import PROBE_STACK, RENDER_STACK
from reelay.runtime import build_runtime


@pytest.mark.parametrize(("idle", "expected"), [(2.5, 2.5), (0.0, None)])
async def test_the_pools_take_the_idle_setting_and_collections_use_one_media_process(
    tmp_path: Path, idle: float, expected: float | None
) -> None:
    settings = Settings(data_dir=tmp_path, process_idle_seconds=idle, local_render_processes=3, workers=4)
    runtime = await build_runtime(settings)
    try:
        render, media = runtime.pool, runtime.media
        assert (render.processes, render.idle_seconds, render.preload) == (3, expected, RENDER_STACK)
        assert (media.processes, media.idle_seconds, media.preload) == (1, expected, PROBE_STACK)
        assert runtime.worker.collector.media is runtime.media  # not the render pool, whatever REELAY_WORKERS says
        assert runtime.worker.collector.eager_previews is False
        assert isinstance(runtime.storage, OnDemandPreviews) and runtime.storage.media is runtime.media
        assert runtime.service.storage is runtime.storage  # the content route and signed links make them
    finally:
        await runtime.close()


async def test_the_heap_is_trimmed_on_a_beat(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(runtime_module.heap, "trim", lambda: bool(trims.append(1)))
    task = asyncio.create_task(runtime_module._keep_trimmed(0.01))
    try:
        async with asyncio.timeout(30):  # a time-box, not a timing assertion
            while len(trims) < 2:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert len(trims) >= 2
