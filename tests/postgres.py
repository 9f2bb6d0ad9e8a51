"""Throwaway PostgreSQL databases for tests: ``reelay_test_<random>`` on 127.0.0.1:5432, dropped after.

Tests that need PostgreSQL skip, saying why, only when the server cannot be reached (a failure when
``REELAY_REQUIRE_SERVICES=1``, see tests/require_services.py); import the ``postgres_url`` fixture
into a ``conftest.py`` to use it. ``REELAY_TEST_POSTGRES_PORT`` points the tests at another port.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

PORT = int(os.environ.get("REELAY_TEST_POSTGRES_PORT", "5432"))
ADMIN_CONNINFO = f"host=127.0.0.1 port={PORT} user=postgres dbname=postgres connect_timeout=3"


def unreachable_reason() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        with psycopg.connect(ADMIN_CONNINFO) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL on 127.0.0.1:{PORT} (user postgres) is unreachable: {error}".strip()
    return None


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create a fresh database and yield its SQLAlchemy URL (psycopg 3); drop it afterwards."""
    name = f"reelay_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_CONNINFO, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{PORT}/{name}"
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
