"""Apply Alembic migrations to the configured database (on start, and by ``reelay migrate``).

A database already at the newest revision is recognised without Alembic: the heads are read from
the revision files' ``revision`` / ``down_revision`` lines and compared with ``alembic_version``.
Alembic (and Mako under it) is imported only when there is something to apply, which keeps it out
of a restarted server's start-up time and memory. ``reelay serve`` and ``reelay worker`` go further
with ``upgrade_in_child``: a new or older database is migrated by a short-lived child process, so a
first start does not carry Alembic, Mako and the revision scripts (about 10 MiB) for its whole life.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

# psycopg 3 serves both sides: SQLAlchemy's ``postgresql+psycopg`` dialect is sync or async by engine.
_ASYNC_TO_SYNC = {
    "sqlite+aiosqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
}
# Any constant will do: processes starting together take turns migrating (PostgreSQL only).
_MIGRATION_LOCK = 0x5EE1A7


def sync_url(url: str) -> str:
    """The synchronous driver URL Alembic runs with, for an async application URL."""
    parsed = make_url(url)
    driver = _ASYNC_TO_SYNC.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@cache
def head_revisions() -> frozenset[str]:
    """The revisions no other revision builds on, read from the files Alembic would load."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (resources.files("reelay") / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py"):
            continue
        for name, value in _REVISION_LINE.findall(script.read_text()):
            found = re.findall(r"[\"']([^\"']+)[\"']", value)  # a string, a tuple of them, or None
            (revisions if name == "revision" else parents).update(found)
    return frozenset(revisions - parents)


def is_current(connection: Connection) -> bool:
    """Whether ``alembic_version`` names exactly the heads (False for a new or older database)."""
    try:
        with connection.begin():
            stored = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:  # no table yet
        return False
    return bool(stored) and stored == head_revisions()


def is_database_current(url: str) -> bool:
    """Whether the database at ``url`` is at the newest revision (one query; no Alembic)."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as probe:
            return is_current(probe)
    except DBAPIError:  # not there yet (a SQLite file's folder, say): upgrading will tell
        return False
    finally:
        engine.dispose()


class MigrationFailed(RuntimeError):
    """The migrating child process failed; its last lines of output say why."""


class Migration:
    """A migrating child process, or nothing to do; ``wait`` ends it (``MigrationFailed`` if it failed)."""

    def __init__(self, process: subprocess.Popen[str] | None) -> None:
        self.process = process

    def wait(self) -> None:
        if self.process is None:
            return
        assert self.process.stderr is not None
        errors = self.process.stderr.read()  # to its end (the child's exit), then the exit status
        self.process.stderr.close()
        if self.process.wait() != 0:
            raise MigrationFailed(f"migrating the database failed:\n{errors[-2000:]}")


def start_upgrade_in_child(url: str) -> Migration:
    """Start ``upgrade_database`` in a child process when there is anything to apply, and return at
    once: the caller imports what it needs meanwhile. The URL goes over stdin, so a password in it
    never shows in the process list."""
    _prepare_folder(url)
    if is_database_current(url):
        return Migration(None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from reelay.jobs.migrate import main; main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(url)
    process.stdin.close()
    return Migration(process)


def upgrade_in_child(url: str) -> None:
    """``upgrade_database`` in a child process (``start_upgrade_in_child``), waited for."""
    start_upgrade_in_child(url).wait()


def main() -> None:
    """The child's entry: the URL on stdin."""
    upgrade_database(sys.stdin.read().strip())


def _prepare_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def upgrade_database(url: str) -> None:
    """Bring the schema to the newest revision; safe to call on every start."""
    _prepare_folder(url)
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as probe:
            if is_current(probe):
                return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files("reelay") / "migrations"))
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # held until commit; DDL is transactional there
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
