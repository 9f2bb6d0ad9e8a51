"""An embedded gateway that holds its database alone can take back a dead process's jobs at once.

A lease keeps a second worker off a job while its holder lives. After a crash of the embedded
default (SQLite, in-process workers), the restarted `reelay serve` would otherwise leave every job the
dead process held until its lease lapsed (``REELAY_JOB_LEASE_SECONDS``, 30 s) and the next sweep
found it. An exclusive ``flock`` on a file beside the database proves that no other live process
serves it, so every lease found at start belongs to a dead one. The kernel drops the lock when the
process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class SoleOwner:
    """An exclusive, non-blocking lock on ``path``, held until ``release`` or the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True when this process now holds the lock; False when another process holds it."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def sqlite_owner_lock(database_url: str) -> SoleOwner | None:
    """The lock for a SQLite database file (``<file>.owner``); None for any other database."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    return SoleOwner(database.with_name(database.name + ".owner"))


__all__ = ["SoleOwner", "sqlite_owner_lock"]
