"""Throwaway PostgreSQL databases for tests: ``reelay_test_<random>`` on 127.0.0.1:5432, dropped after.

Tests that need PostgreSQL skip, saying why, only when the server cannot be reached; import the
``postgres_url`` fixture into a ``conftest.py`` to use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

ADMIN_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def unreachable_reason() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        with psycopg.connect(ADMIN_CONNINFO) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL on 127.0.0.1:5432 (user postgres) is unreachable: {error}".strip()
    return None


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create a fresh database and yield its SQLAlchemy URL (psycopg 3); drop it afterwards."""
    name = f"reelay_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_CONNINFO, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_CONNINFO, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throwaway database for the whole test run."""
    reason = unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    with throwaway_database() as url:
        yield url
