"""The job tests run on SQLite and on a throwaway PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from reelay.jobs.migrate import upgrade_database
from reelay.jobs.models import NewJob, VideoRow
from reelay.jobs.spec import JobSpec
from reelay.jobs.store import JobStore, make_engine
from tests.postgres import postgres_url

__all__ = ["new_job", "postgres_url", "store"]


def new_job(video_id: str, owner: str | None = None) -> NewJob:
    return NewJob(
        id=video_id,
        owner=owner,
        model="reelay-local",
        prompt="a fox",
        size="1280x720",
        seconds="5",
        n=1,
        provider="local",
        executed_model="reelay-local",
        spec=JobSpec(mode="t2v", prompt="a fox"),
        report=[],
        cost_estimate=0.0,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    """The same store on SQLite (a file per test) and on PostgreSQL (one throwaway database per run)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_database(url)
    upgrade_database(url)  # idempotent: every start runs it
    store = JobStore(make_engine(url))
    async with store.engine.begin() as connection:  # PostgreSQL tests share a database: start empty
        await connection.execute(delete(VideoRow))
    yield store
    await store.close()
