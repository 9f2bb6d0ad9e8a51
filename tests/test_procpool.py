"""The render pool: children die with their parent, run under a memory limit, can be killed one by one,
and start only when the first task arrives."""

from __future__ import annotations

import asyncio
import itertools
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


def test_an_idle_child_exits_and_the_next_task_starts_a_fresh_one() -> None:
    pool = ProcessPool(1, idle_seconds=0.2)

    async def pid() -> int:
        return await pool.run(os.getpid)

    try:
        first = asyncio.run(pid())
        assert wait_for(lambda: is_gone(first), timeout=30), "the idle child kept running"
        assert pool._idle == [] and pool.live_pids() == []
        second = asyncio.run(pid())
        assert second != first and not is_gone(second)
    finally:
        pool.shutdown()


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


async def test_a_busy_child_is_not_stopped_for_idleness() -> None:
    """A task that outlasts ``idle_seconds`` ten times over finishes in the child it started in."""
    pool = ProcessPool(1, idle_seconds=0.05)
    try:
        busy = pool.submit(_pid_after, 0.5)
        assert wait_for(lambda: any(t.child for t in pool._running.values()), 30)
        running = next(t.child for t in pool._running.values() if t.child)
        assert await asyncio.wait_for(busy, timeout=60) == running.process.pid  # not stopped, not replaced
    finally:
        pool.shutdown()


def test_without_idle_seconds_children_stay() -> None:
    pool = ProcessPool(1)
    try:
        first = asyncio.run(pool.run(os.getpid))
        assert pool._reaper is None  # nothing watches the idle children
        assert asyncio.run(pool.run(os.getpid)) == first
    finally:
        pool.shutdown()


def _thread_heaps() -> int:
    """The thread arenas of this process after eight threads allocated at once."""
    import threading

    barrier = threading.Barrier(8)
    kept: list[list[bytearray]] = []

    def allocate() -> None:
        kept.append([bytearray(2000) for _ in range(200)])  # above pymalloc's 512 bytes: malloc's
        barrier.wait()  # all eight threads allocate at once: glibc gives each its own arena if it may

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count_thread_heaps(Path("/proc/self/maps").read_text())


def count_thread_heaps(maps: str) -> int:
    """The glibc malloc arenas of threads in a ``/proc/<pid>/maps``: a 64 MiB-aligned read-write
    mapping with its PROT_NONE reservation right behind it, together 64 MiB (HEAP_MAX_SIZE)."""
    rows = [line.split() for line in maps.splitlines()]
    spans = [(*(int(x, 16) for x in fields[0].split("-")), fields[1]) for fields in rows if len(fields) == 5]
    heap_size = 64 * 1024 * 1024
    count = 0
    for (start, end, mode), (next_start, next_end, next_mode) in itertools.pairwise(spans):
        if mode == "rw-p" and start % heap_size == 0 and next_start == end and next_mode == "---p":
            count += next_end - start == heap_size
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas, read from /proc")
async def test_malloc_arenas_caps_the_arenas_of_each_child() -> None:
    capped, free = ProcessPool(1, malloc_arenas=1), ProcessPool(1)
    try:
        assert await capped.run(_thread_heaps) == 0  # one arena: every thread shares the main heap
        assert await free.run(_thread_heaps) >= 2  # glibc's default: threads that allocate at once get their own
    finally:
        capped.shutdown()
        free.shutdown()
