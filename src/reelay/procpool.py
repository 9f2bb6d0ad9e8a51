"""A process pool for CPU-bound media work (rendering, probing, thumbnails).

Rendering in worker processes keeps the event loop, and so the API's latency, free of the GIL
held by frame synthesis. Unlike ``concurrent.futures.ProcessPoolExecutor`` every task here knows
its process, which buys four guarantees the executor cannot give:

- **Kill one task.** ``kill(future)`` stops the process running that task (a cancelled render stops
  at once, not at its next frame check) and only that one; the others keep running.
- **Bounded memory.** Each child runs under ``RLIMIT_AS`` (``memory_limit_mb``): an allocation
  past it raises ``MemoryError`` in the child, which fails that task with ``RenderOutOfMemory``
  instead of letting the kernel's OOM killer pick a victim on the host. The child is then replaced.
- **No orphans.** Children exit when the parent dies, even by SIGKILL: ``PR_SET_PDEATHSIG`` on
  Linux, and a thread that watches the parent's pid everywhere (the fallback; at most 1 s late).
- **Lazy start, idle exit.** No process starts until the first task arrives; ``warm_up`` starts them
  early for callers that want it (a benchmark), and the app does not call it. With ``idle_seconds``
  a process left without a task that long is stopped (a reaper thread, in the parent, so a task is
  never sent to a child that is on its way out); the next task starts a fresh one.

A child that dies mid-task (a crash, a SIGKILL from outside) fails that task with
``BrokenProcessPool``, as the executor did, so callers keep treating it as retryable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# What a child imports before its first task, so that task does not pay for it.
RENDER_STACK = "reelay.engine.thumbnails"  # PyAV and Pillow
PROBE_STACK = "reelay.engine.probe"  # PyAV alone (Pillow loads if an image is made): 3 MiB less a process


class RenderOutOfMemory(MemoryError):
    """The task needed more memory than the pool's per-process limit allows."""


class TaskKilled(Exception):
    """The task's process was stopped on purpose (``ProcessPool.kill``)."""


class _ChildProcess:
    """A child started with ``subprocess``, not ``multiprocessing``: spawn would re-run the parent's
    main script in it (the whole CLI and API, about 50 MiB a child) and start a resource tracker
    process; this child imports only ``reelay.procchild``, the media stack and its tasks' modules."""

    def __init__(self, conn_fd: int, parent_pid: int, pool: ProcessPool) -> None:
        entry = "from reelay.procchild import main; main()"
        limits = [str(pool.memory_limit_mb or 0), str(pool.malloc_arenas or 0)]
        args = [sys.executable, "-c", entry, str(conn_fd), str(parent_pid), *limits, pool.preload]
        self._popen = subprocess.Popen(args, pass_fds=(conn_fd,), stdin=subprocess.DEVNULL)
        self.pid = self._popen.pid

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def kill(self) -> None:
        self._popen.kill()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)


@dataclass
class _Child:
    process: _ChildProcess
    conn: Connection
    killed: bool = False
    idle_since: float = 0.0  # time.monotonic() when it was last given back


@dataclass
class _Task:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: Future[Any] = field(default_factory=Future)
    child: _Child | None = None


class ProcessPool:
    def __init__(
        self,
        processes: int,
        *,
        memory_limit_mb: int | None = None,
        idle_seconds: float | None = None,
        malloc_arenas: int | None = None,
        preload: str = RENDER_STACK,
    ) -> None:
        """``idle_seconds``: stop a process left that long without a task (None or 0: keep it).
        ``malloc_arenas``: cap each child's glibc malloc arenas (``reelay.heap``); None: glibc's default
        (up to 8 a core), which suits a child whose many threads allocate at once (torch). ``preload``:
        the module each child imports before its first task (``PROBE_STACK``: PyAV without Pillow)."""
        self.processes = processes
        self.memory_limit_mb = memory_limit_mb
        self.idle_seconds = idle_seconds if idle_seconds else None
        self.malloc_arenas = malloc_arenas
        self.preload = preload
        self._lock = threading.Lock()
        self._idle_changed = threading.Condition(self._lock)  # wakes the reaper
        self._idle: list[_Child] = []
        self._running: dict[int, _Task] = {}  # id(future) -> task
        self._slots = threading.BoundedSemaphore(processes)
        self._closed = False
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reelay-pool-spawner")
        self._reaper: threading.Thread | None = None

    def live_pids(self) -> list[int]:
        """The pids of the children alive now, idle or busy (for tests and diagnostics)."""
        with self._lock:
            children = list(self._idle) + [task.child for task in self._running.values() if task.child is not None]
        return sorted({child.process.pid for child in children if child.process.is_alive() and not child.killed})

    # -- children ----------------------------------------------------------------------------------

    def _start_child(self) -> _Child:
        """Start a child from the one long-lived spawner thread: PR_SET_PDEATHSIG fires when the
        *thread* that started a child ends, so a short-lived task thread would take its child with it."""
        return self._spawner.submit(self._spawn).result()

    def _spawn(self) -> _Child:
        parent_end, child_end = socket.socketpair()
        try:
            process = _ChildProcess(child_end.fileno(), os.getpid(), self)
        finally:
            child_end.close()
        conn = Connection(parent_end.detach())
        conn.send(sys.path)
        return _Child(process, conn)

    def _take_child(self) -> _Child:
        with self._lock:
            while self._idle:
                child = self._idle.pop()
                if child.process.is_alive():
                    return child
                child.conn.close()
        return self._start_child()

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            if not self._closed and child.process.is_alive() and not child.killed:
                child.idle_since = time.monotonic()
                self._idle.append(child)
                if self.idle_seconds is not None:
                    if self._reaper is None:
                        self._reaper = threading.Thread(target=self._reap, name="reelay-pool-reaper", daemon=True)
                        self._reaper.start()
                    self._idle_changed.notify()
                return
        _stop(child)

    def _reap(self) -> None:
        """Stop children idle for ``idle_seconds``. A child leaves ``_idle`` under the lock before it is
        stopped, so ``_take_child`` can never hand a task to one being stopped."""
        assert self.idle_seconds is not None
        while True:
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                expired = [child for child in self._idle if now - child.idle_since >= self.idle_seconds]
                self._idle = [child for child in self._idle if child not in expired]
                if not expired:
                    oldest = min((child.idle_since for child in self._idle), default=None)
                    wait = None if oldest is None else oldest + self.idle_seconds - now
                    self._idle_changed.wait(wait)
                    continue
            for child in expired:
                _stop(child)

    # -- tasks ---------------------------------------------------------------------------------------

    def warm_up(self) -> list[Future[None]]:
        """Start every child now rather than on the first task; the futures end when each is started."""
        futures: list[Future[None]] = []
        with self._lock:
            missing = self.processes - len(self._idle)
        for _ in range(max(0, missing)):
            child = self._start_child()
            self._give_back(child)
            done: Future[None] = Future()
            done.set_result(None)
            futures.append(done)
        return futures

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """Run ``fn`` in a child; the returned future can be awaited, polled or passed to ``kill``."""
        task = _Task(fn, args, dict(kwargs))
        threading.Thread(target=self._run_task, args=(task,), name="reelay-pool-task", daemon=True).start()
        wrapped: asyncio.Future[T] = asyncio.wrap_future(task.future)
        with self._lock:
            self._running[id(wrapped)] = task
        wrapped.add_done_callback(self._forget)
        return wrapped

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.submit(fn, *args, **kwargs)

    def kill(self, future: asyncio.Future[Any]) -> bool:
        """Stop the process running ``future``'s task now; the future fails with ``TaskKilled``.

        A task still waiting for a process is dropped before it starts. False if it had ended.
        """
        with self._lock:
            task = self._running.get(id(future))
        if task is None or task.future.done():
            return False
        with self._lock:
            child = task.child
            if child is not None:
                child.killed = True
        if child is not None:
            with contextlib.suppress(OSError):
                child.process.kill()  # the task thread sees the pipe close and fails the future
        with contextlib.suppress(Exception):
            task.future.set_exception(TaskKilled("the task was stopped"))
        future.add_done_callback(lambda done: done.cancelled() or done.exception())  # expected: not "never retrieved"
        return True

    def _forget(self, future: asyncio.Future[Any]) -> None:
        with self._lock:
            self._running.pop(id(future), None)

    def _run_task(self, task: _Task) -> None:
        """On a thread per task: wait for a slot, hand the task to a child, wait for its answer."""
        try:
            self._run_in_child(task)
        except Exception as error:  # the pool was shut down, or a child could not start
            with contextlib.suppress(Exception):
                task.future.set_exception(BrokenProcessPool(f"no render process could run the task: {error}"))

    def _run_in_child(self, task: _Task) -> None:
        with self._slots:
            if task.future.done():  # killed while waiting for a slot
                return
            child = self._take_child()
            with self._lock:
                task.child = child
                killed_early = task.future.done()
            if killed_early:
                child.killed = True
                self._give_back(child)
                return
            try:
                child.conn.send((task.fn, task.args, task.kwargs))
                kind, value = child.conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                child.killed = True
                self._give_back(child)
                code = child.process.exitcode
                with contextlib.suppress(Exception):
                    task.future.set_exception(
                        BrokenProcessPool(f"the render process died (exit code {code}) while running a task")
                    )
                return
            if kind == "oom":
                child.killed = True
            self._give_back(child)
            with contextlib.suppress(Exception):  # kill() may have failed the future already
                if kind == "ok":
                    task.future.set_result(value)
                elif kind == "oom":
                    limit = f"{self.memory_limit_mb} MB" if self.memory_limit_mb else "the machine's memory"
                    task.future.set_exception(RenderOutOfMemory(f"the task needed more than {limit}"))
                else:
                    task.future.set_exception(value)

    def shutdown(self) -> None:
        """Stop every child: idle ones at once, busy ones are killed (their tasks fail)."""
        with self._lock:
            self._closed = True
            self._idle_changed.notify_all()
            children = list(self._idle)
            self._idle.clear()
            busy = [task.child for task in self._running.values() if task.child is not None]
        for child in children + busy:
            _stop(child)
        self._spawner.shutdown(wait=False)


def _stop(child: _Child) -> None:
    with contextlib.suppress(OSError, ValueError):
        child.conn.send(None)
    with contextlib.suppress(OSError, ValueError):
        child.conn.close()
    child.process.join(timeout=1)
    if child.process.is_alive():
        child.process.kill()
        child.process.join(timeout=5)


def is_broken_pool(error: BaseException) -> bool:
    return isinstance(error, BrokenProcessPool)


__all__ = ["PROBE_STACK", "RENDER_STACK", "ProcessPool", "RenderOutOfMemory", "TaskKilled", "is_broken_pool"]
