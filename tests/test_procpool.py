"""The render pool: children die with their parent, run under a memory limit, can be killed one by one,
and start only when the first task arrives."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reelay.procpool import ProcessPool, RenderOutOfMemory, TaskKilled
from reelay.providers.local import _as_upstream_error


def is_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for init to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def wait_for(predicate: object, timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout``; a time-box for a test that must not hang."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_children_exit_when_the_parent_is_killed(tmp_path: Path) -> None:
    parent = textwrap.dedent(
        """
        import asyncio, os, sys, time
        from reelay.procpool import ProcessPool

        async def main():
            pool = ProcessPool(1)
            child = await pool.run(os.getpid)
            pool.submit(time.sleep, 600)  # a render that would outlive its parent
            print(child, flush=True)
            await asyncio.sleep(600)

        asyncio.run(main())
        """
    )
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    child = int(process.stdout.readline())
    assert not is_gone(child)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert wait_for(lambda: is_gone(child), timeout=30), f"render process {child} outlived its parent"


async def test_a_task_over_the_memory_limit_fails_and_the_pool_recovers() -> None:
    pool = ProcessPool(1, memory_limit_mb=1024)
    try:
        first = await pool.run(os.getpid)
        with pytest.raises(RenderOutOfMemory):
            await pool.run(bytearray, 4 * 1024 * 1024 * 1024)  # 4 GB under a 1 GB limit
        second = await pool.run(os.getpid)
        assert second != first  # the child that hit its limit was replaced
        assert await pool.run(len, b"still works") == 11
    finally:
        pool.shutdown()


def test_an_out_of_memory_render_fails_its_job_without_a_retry() -> None:
    error = _as_upstream_error(RenderOutOfMemory("the task needed more than 1024 MB"))
    assert (error.code, error.retryable) == ("render_out_of_memory", False)
    assert "REELAY_RENDER_MEMORY_MB" in error.message


async def test_kill_stops_one_task_and_leaves_the_others_running() -> None:
    pool = ProcessPool(2)
    try:
        pids = {await pool.run(os.getpid) for _ in range(2)}
        doomed = pool.submit(time.sleep, 600)
        survivor = pool.submit(time.sleep, 1.0)
        assert wait_for(lambda: len(pool._running) == 2 and all(t.child for t in pool._running.values()), 30)
        doomed_pid = next(t.child.process.pid for k, t in pool._running.items() if k == id(doomed) and t.child)
        assert doomed_pid in pids
        assert pool.kill(doomed)
        with pytest.raises(TaskKilled):
            await doomed
        assert await asyncio.wait_for(survivor, timeout=60) is None
        assert wait_for(lambda: is_gone(doomed_pid), timeout=10)
        assert await pool.run(os.getpid) not in (doomed_pid,)  # a replacement serves the next task
        assert _as_upstream_error(TaskKilled("stopped")).code == "cancelled"
    finally:
        pool.shutdown()


def test_the_pool_starts_no_process_until_the_first_task() -> None:
    pool = ProcessPool(2)
    assert pool._idle == [] and pool._running == {}

    async def one() -> int:
        return await pool.run(os.getpid)

    try:
        assert asyncio.run(one()) != os.getpid()
        assert len(pool._idle) == 1  # one task, one process: the second is never started
    finally:
        pool.shutdown()


async def test_media_processes_run_behind_the_api_process() -> None:
    """Renders and probes are background work: on a busy machine the process answering clients gets
    the CPU first (a media process is 10 nice steps behind its parent)."""
    pool = ProcessPool(1)
    try:
        child = await pool.run(os.getpid)
        assert os.getpriority(os.PRIO_PROCESS, child) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    finally:
        pool.shutdown()
