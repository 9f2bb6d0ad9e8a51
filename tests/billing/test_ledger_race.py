"""Every ledger transition happens once: racing settles, refunds and the reconciliation sweep, on SQLite
and PostgreSQL. The hold is taken the production way, in the job's insert transaction with the budget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, select

from reelay.billing.ledger import Ending, Ledger
from reelay.billing.listener import BillingListener
from reelay.billing.models import LedgerRow
from reelay.catalog import load_catalog
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.models import NewJob, VideoJob, VideoRow
from reelay.jobs.spec import JobSpec
from reelay.jobs.store import JobStore, make_engine
from reelay.security.keys import KeyLimits, KeyStore
from reelay.security.models import ApiKeyRow
from reelay.security.ratelimit import DefaultLimits, admit_job

RACERS = 12


@dataclass
class Bench:
    store: JobStore
    ledger: Ledger
    key: str


@pytest.fixture(params=["sqlite", "postgresql"])
async def bench(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bench]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_database(url)
    store = JobStore(make_engine(url, pool_size=RACERS + 4))
    async with store.engine.begin() as connection:  # PostgreSQL tests share a database: start empty
        await connection.execute(delete(LedgerRow))
        await connection.execute(delete(VideoRow))
    key, _ = await KeyStore(store.engine).create(name="racer", limits=KeyLimits(budget_usd=100.0))
    yield Bench(store, Ledger(store.engine), key.id)
    await store.close()


async def submit(bench: Bench, video_id: str, estimate: float = 0.25) -> VideoJob:
    """A job created as the API creates one: budget checked and held inside the insert transaction."""

    def on_insert(connection: Connection, job: VideoJob) -> None:
        admit_job(connection, bench.key, job.cost_estimate, DefaultLimits())
        bench.ledger.hold(connection, job)

    new = NewJob(
        id=video_id,
        owner=bench.key,
        model="grok-imagine-video",
        prompt="a fox",
        size="1365x768",
        seconds="5",
        n=1,
        provider="xai",
        executed_model="grok-imagine-video",
        spec=JobSpec(mode="t2v", seconds=5.0),
        report=[],
        cost_estimate=estimate,
    )
    return await bench.store.create(new, on_insert=on_insert)


async def spent(bench: Bench) -> float:
    async with bench.store.engine.connect() as connection:
        value = await connection.scalar(select(ApiKeyRow.spent_usd).where(ApiKeyRow.id == bench.key))
    return float(value or 0.0)


async def test_concurrent_settle_and_refund_of_one_job_happen_once(bench: Bench) -> None:
    settle = Ending(True, 0.1, "reported", "completed")
    refund = Ending(False, 0.0, "none", "failed")
    for round_ in range(4):
        await submit(bench, f"video_race{round_}")
        racers = [bench.ledger.end(f"video_race{round_}", settle if i % 2 else refund) for i in range(RACERS)]
        ended = [entry for entry in await asyncio.gather(*racers) if entry is not None]
        assert len(ended) == 1, ended
    entries = await bench.ledger.entries([f"video_race{i}" for i in range(4)])
    charged = sum(entry.charged_usd for entry in entries.values())
    assert await spent(bench) == pytest.approx(charged)  # each hold adjusted the budget exactly once
    assert {entry.state.value for entry in entries.values()} <= {"settled", "released"}


async def test_the_sweep_settles_a_job_the_listener_never_heard_of(bench: Bench) -> None:
    """A crash between the job ending and the listener: the hold stays held until the sweep ends it."""
    listener = BillingListener(bench.ledger, load_catalog(), bench.store)
    job = await submit(bench, "video_crashed")
    assert await bench.store.fail(job.id, None, "upstream_unavailable", "xAI answered 503")
    assert (await bench.ledger.entry(job.id)).state.value == "held"  # type: ignore[union-attr]
    assert await spent(bench) == 0.25
    failed = await bench.store.get(job.id)
    assert failed is not None
    # the sweep and a late listener race; the hold is released once
    await asyncio.gather(listener.reconcile(), listener.job_finished(failed), listener.reconcile())
    entry = await bench.ledger.entry(job.id)
    assert entry is not None and entry.state.value == "released" and entry.charged_usd == 0.0
    assert await spent(bench) == 0.0
    assert await listener.reconcile() == 0  # nothing left to do


async def test_a_purged_job_with_a_hold_is_released_by_the_sweep(bench: Bench) -> None:
    listener = BillingListener(bench.ledger, load_catalog(), bench.store)
    job = await submit(bench, "video_purged")
    await bench.store.purge(job.id)
    assert await listener.reconcile() == 1
    entry = await bench.ledger.entry(job.id)
    assert entry is not None and entry.state.value == "released"
    assert await spent(bench) == 0.0
