"""One line that says which database, queue and storage a process runs on, from its settings.

Printed by ``reelay serve`` and ``reelay worker`` at start, so an operator never has to guess
whether a deployment picked up its PostgreSQL, procrastinate and S3 settings. Passwords are hidden.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from reelay.config import Settings

# For `reelay serve --help`: where each of the three comes from.
SOURCES_HELP = (
    "Database: REELAY_DATABASE_URL (default SQLite in the data directory). "
    "Queue: REELAY_QUEUE, inprocess (default) or procrastinate. "
    "Storage: REELAY_STORAGE, local (default, the data directory) or s3 (REELAY_S3_BUCKET). "
    "The active three are printed at start."
)


def database_summary(settings: Settings) -> str:
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite":
        return f"sqlite ({url.database})"
    host = url.host or "local socket"
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()} ({url.username or ''}{'@' if url.username else ''}{host}{port}/{url.database})"


def queue_summary(settings: Settings) -> str:
    where = "workers in this process" if settings.workers_in_this_process() else "no workers in this process"
    return f"{settings.queue} ({where})"


def storage_summary(settings: Settings) -> str:
    if settings.storage == "s3":
        endpoint = settings.s3_endpoint_url or "AWS S3"
        prefix = f", prefix {settings.s3_prefix}" if settings.s3_prefix else ""
        return f"s3 (bucket {settings.s3_bucket}, {endpoint}{prefix})"
    return f"local ({settings.data_dir})"


def runtime_summary(settings: Settings) -> str:
    """``database: … · queue: … · storage: …`` for the start-up line."""
    return (
        f"database: {database_summary(settings)} · queue: {queue_summary(settings)} · "
        f"storage: {storage_summary(settings)}"
    )
