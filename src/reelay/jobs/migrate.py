"""Apply Alembic migrations to the configured database (on start, and by ``reelay migrate``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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


def upgrade_database(url: str) -> None:
    """Bring the schema to the newest revision; safe to call on every start."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(resources.files("reelay") / "migrations"))
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # held until commit; DDL is transactional there
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
