"""Rate limits and idempotency keys (security's tables) hold across processes on PostgreSQL.

Each "process" is its own engine (its own connection pool), racing on the same rows, as several API
processes would. The logic is the security module's; this checks it on the scale-out database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.errors import RateLimited
from reelay.jobs.idempotency import DuplicateKey, IdempotencyClaim, IdempotencyStore
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.store import make_engine
from reelay.security.keys import ApiKey, KeyLimits
from reelay.security.models import IdempotencyRow, RateWindowRow
from reelay.security.ratelimit import DefaultLimits, RateLimiter


@pytest.fixture
async def engines(postgres_url: str) -> AsyncIterator[list[AsyncEngine]]:
    upgrade_database(postgres_url)
    engines = [make_engine(postgres_url) for _ in range(3)]
    async with engines[0].begin() as connection:
        await connection.execute(delete(RateWindowRow))
        await connection.execute(delete(IdempotencyRow))
    yield engines
    for engine in engines:
        await engine.dispose()


async def test_a_per_minute_limit_is_shared_by_every_process(engines: list[AsyncEngine]) -> None:
    key = ApiKey(
        id="k1",
        name="",
        admin=False,
        limits=KeyLimits(rpm=10),
        spent_usd=0.0,
        created_at=time.time(),
        revoked_at=None,
        last_used_at=None,
    )
    limiters = [RateLimiter(engine, DefaultLimits()) for engine in engines]
    now = 60.0 * 1000 + 1  # one fixed window for every call

    async def hit(n: int) -> bool:
        try:
            await limiters[n % 3].hit(key, now=now)
        except RateLimited:
            return False
        return True

    allowed = await asyncio.gather(*(hit(n) for n in range(30)))
    assert sum(allowed) == 10


async def test_an_idempotency_key_is_won_by_exactly_one_process(engines: list[AsyncEngine]) -> None:
    claim = IdempotencyClaim(scope="k1", key="same-key", fingerprint="f" * 64)

    async def record(n: int) -> bool:
        store = IdempotencyStore(engines[n % 3])
        try:
            async with engines[n % 3].begin() as connection:
                await connection.run_sync(store.record, claim, f"video_{n}")
        except DuplicateKey:
            return False
        return True

    won = await asyncio.gather(*(record(n) for n in range(6)))
    assert sum(won) == 1
    assert await IdempotencyStore(engines[0]).lookup(claim) == f"video_{won.index(True)}"


async def test_racing_first_requests_of_a_window_all_count(engines: list[AsyncEngine]) -> None:
    """Processes racing to insert a window's row: the losers update it instead, none is refused."""
    key = ApiKey("k2", "", False, KeyLimits(rpm=30), 0.0, time.time(), None, None)
    limiters = [RateLimiter(engine, DefaultLimits()) for engine in engines]
    for n, limiter in enumerate(limiters):  # connections open first, so the first requests really race
        await limiter.hit(replace(key, id=f"warm{n}"), now=60.0 * 2000 + 1)
    await asyncio.gather(*(limiters[n % 3].hit(key, now=60.0 * 2000 + 1) for n in range(30)))
    with pytest.raises(RateLimited):
        await limiters[0].hit(key, now=60.0 * 2000 + 2)  # all 30 were counted
