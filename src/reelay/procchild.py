"""A media process's life, started by ``reelay.procpool``: guard, import the media stack, run tasks.

Kept apart from the pool so a child imports only this, the media stack and its tasks' modules, not
asyncio and the pool (whose ``ssl`` alone is about 10 MiB a process).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from reelay import heap

PR_SET_PDEATHSIG = 1
PARENT_CHECK_SECONDS = 0.5
# Media work (renders, probes, posters) is background work: on a busy machine the API process that
# answers clients comes first. 10 steps lower gives the parent about ten times the CPU share under
# contention and costs nothing when a core is free.
NICENESS = 10


def _exit_with_parent(parent_pid: int) -> None:
    """Arrange for this child to die with its parent: the kernel's signal, else a watchdog thread."""
    library = heap.libc()
    if library is not None:
        with contextlib.suppress(OSError, AttributeError):
            library.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            threading.Event().wait(PARENT_CHECK_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="reelay-parent-watch", daemon=True).start()


def _limit_memory(limit_mb: int | None) -> None:
    if limit_mb:
        import resource

        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _child_main(
    conn: Connection, parent_pid: int, memory_limit_mb: int | None, arenas: int | None, preload: str
) -> None:
    """A child's life: guard, import the media stack once, then run tasks until told to stop."""
    if arenas:  # before any thread of this process (the parent watch's) allocates
        heap.limit_arenas(arenas)
    _exit_with_parent(parent_pid)
    _limit_memory(memory_limit_mb)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    sys.path[:] = conn.recv()  # the parent's: the tasks' modules are found where the parent found them
    importlib.import_module(preload)  # the media stack once per child: the first task does not pay for it

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, args, kwargs = task
        try:
            outcome: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except MemoryError:
            outcome = ("oom", None)
        except BaseException as error:  # sent back to the caller, which re-raises it
            outcome = ("error", error)
        try:
            conn.send(outcome)
        except Exception as error:  # an unpicklable result or exception
            conn.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))
        if outcome[0] == "oom":
            return  # a process that hit its limit may be fragmented: start a fresh one
        del task, fn, args, kwargs, outcome
        heap.trim()  # an idle media process holds its libraries, not the heap its last video needed


def main() -> None:
    """``python -c`` entry: ``argv`` is the child's end of the socket pair, the parent's pid, the memory
    limit and the malloc arena cap (0: none for either), the module to preload."""
    fd, parent_pid, limit_mb, arenas = (int(arg) for arg in sys.argv[1:5])
    _child_main(Connection(fd), parent_pid, limit_mb or None, arenas or None, sys.argv[5])
