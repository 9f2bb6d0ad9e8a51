"""A media process's life, started by ``reelay.procpool``: guard, import the media stack, run tasks.

Kept apart from the pool so a child imports only this, the media stack and its tasks' modules, not
asyncio and the pool (whose ``ssl`` alone is about 10 MiB a process).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import signal
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

PR_SET_PDEATHSIG = 1
PARENT_CHECK_SECONDS = 0.5
# Media work (renders, probes, posters) is background work: on a busy machine the API process that
# answers clients comes first. 10 steps lower gives the parent about ten times the CPU share under
# contention and costs nothing when a core is free.
NICENESS = 10


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """Linux's C library, in a child only (``find_library`` runs ``ldconfig``: not at the API's import)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


def _exit_with_parent(parent_pid: int) -> None:
    """Arrange for this child to die with its parent: the kernel's signal, else a watchdog thread."""
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(OSError, AttributeError):
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
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


def _child_main(conn: Connection, parent_pid: int, memory_limit_mb: int | None) -> None:
    """A child's life: guard, import the media stack once, then run tasks until told to stop."""
    _exit_with_parent(parent_pid)
    _limit_memory(memory_limit_mb)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    sys.path[:] = conn.recv()  # the parent's: the tasks' modules are found where the parent found them
    import reelay.engine.thumbnails  # noqa: F401  (av and Pillow once per child: the first job does not pay)

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
        _return_free_memory()


def _return_free_memory() -> None:
    """Hand the heap a task freed back to the system (glibc keeps it otherwise): an idle media process
    holds its libraries, not the heap its last video needed (a few MiB after a poster and spritesheet)."""
    libc = _libc()
    with contextlib.suppress(AttributeError):  # glibc has malloc_trim, musl does not
        if libc is not None:
            libc.malloc_trim(0)


def main() -> None:
    """``python -c`` entry: ``argv`` is the child's end of the socket pair, the parent's pid, the memory limit."""
    fd, parent_pid, limit_mb = (int(arg) for arg in sys.argv[1:4])
    _child_main(Connection(fd), parent_pid, limit_mb or None)
