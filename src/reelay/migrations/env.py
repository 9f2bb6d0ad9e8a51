"""Alembic environment: runs against the connection handed over by ``reelay.jobs.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from reelay.billing import models as _billing_models  # noqa: F401  (registers its table on Base)
from reelay.database import Base
from reelay.jobs import models as _job_models  # noqa: F401  (registers the videos table on Base)
from reelay.security import models as _security_models  # noqa: F401  (registers its tables on Base)

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
