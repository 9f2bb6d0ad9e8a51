"""Alembic environment: runs against the connection handed over by ``reelay.jobs.migrate``.

The models' metadata is what ``alembic revision --autogenerate`` compares the database with. Applying
migrations needs none of it, so the child process ``reelay serve`` migrates in (``jobs.migrate``)
does not import the models, and with them pydantic: about 0.2 s of that child's start.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, engine_from_config, pool

config = context.config


def target_metadata() -> MetaData:
    from reelay.billing import models as _billing_models  # noqa: F401  (registers its table on Base)
    from reelay.database import Base
    from reelay.jobs import models as _job_models  # noqa: F401  (registers the videos table on Base)
    from reelay.security import models as _security_models  # noqa: F401  (registers its tables on Base)

    return Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # reelay.jobs.migrate: apply the revisions
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata(), render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
