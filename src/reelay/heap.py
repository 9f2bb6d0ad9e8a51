"""glibc's heap, kept small: fewer malloc arenas, and freed pages handed back to the system.

Under load the API process's threads (the default executor's, SQLite's, the pools' task threads)
each got a malloc arena of their own, up to eight per core, and every arena keeps the pages it
once used resident: about 20 MiB in ``bench/vs_litellm.py``'s run. ``limit_arenas`` caps them;
``trim`` returns the free pages of every arena (glibc otherwise keeps all but the main heap's top).
Both do nothing where the C library is not glibc (musl, macOS). No asyncio here: the media
processes import this module, and asyncio with ssl would cost each of them 6 MiB.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sys

M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)
# The API process's cap: its threads wait on I/O (SQLite, files, media processes) and seldom allocate
# at once, so two arenas cost no measurable speed (bench/vs_litellm.py) and keep ~10 MiB less resident.
SERVER_ARENAS = 2
TRIM_SECONDS = 30.0  # how often a running server hands its free heap pages back


@functools.cache
def libc() -> ctypes.CDLL | None:
    """The C library this process runs on (the symbols of the running program: no ``ldconfig`` run)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def limit_arenas(count: int) -> bool:
    """Cap malloc's arenas at ``count``: threads beyond that share one. Run it before the threads it
    should cover start; an arena that exists already stays. True where glibc took the setting."""
    library = libc()
    with contextlib.suppress(AttributeError):
        if library is not None:
            return bool(library.mallopt(M_ARENA_MAX, count))
    return False


def trim() -> bool:
    """Hand every arena's free pages back to the system; True if any were."""
    library = libc()
    with contextlib.suppress(AttributeError):
        if library is not None:
            return bool(library.malloc_trim(0))
    return False


__all__ = ["SERVER_ARENAS", "TRIM_SECONDS", "libc", "limit_arenas", "trim"]
