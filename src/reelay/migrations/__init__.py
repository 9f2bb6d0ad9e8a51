"""Alembic migrations for the job store, applied on start by ``reelay.jobs.migrate``."""
