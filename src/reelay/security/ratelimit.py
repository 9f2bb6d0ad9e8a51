"""Per-key limits, kept in the database so several API processes share one count.

- Requests per minute: a fixed one-minute window per key (``api_rate_windows``), counted with an
  atomic ``UPDATE … SET count = count + 1`` (insert on the window's first request). Refused requests
  count too, so a client hammering past its limit stays limited until the window turns.
- Concurrent unfinished jobs and the USD budget: checked inside the transaction that inserts the job
  (``admit_job``), after locking the key's row, so concurrent creates of one key are serialized on
  PostgreSQL (``SELECT … FOR UPDATE``) as they are on SQLite (one writer): no overshoot.

The budget counts holds plus settled spend: ``admit_job`` adds a job's ``cost_estimate`` (its hold) to
``spent_usd`` when the row is written, so a key can never start more spending than it was given; when
the job ends ``billing.ledger`` moves ``spent_usd`` to the real cost (or back, on a refund) in the same
transaction that ends the hold. ``reelay keys`` shows it; ``reelay usage`` breaks it down.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.errors import InsufficientQuota, RateLimited
from reelay.jobs.store import count_unfinished
from reelay.security.keys import ApiKey
from reelay.security.models import ApiKeyRow, RateWindowRow

WINDOW_SECONDS = 60
CONCURRENCY_RETRY_AFTER = 5.0  # seconds: a job takes at least this long, so sooner is pointless


@dataclass(frozen=True)
class DefaultLimits:
    """Limits for keys created without their own (``REELAY_DEFAULT_RPM`` …); None = unlimited."""

    rpm: int | None = None
    max_concurrent: int | None = None
    budget_usd: float | None = None


class RateLimiter:
    def __init__(self, engine: AsyncEngine, defaults: DefaultLimits) -> None:
        self.engine = engine
        self.defaults = defaults

    async def hit(self, key: ApiKey, *, now: float | None = None) -> None:
        """Count one request of ``key``; ``RateLimited`` (429 + Retry-After) past its per-minute limit."""
        limit = key.limits.rpm if key.limits.rpm is not None else self.defaults.rpm
        if limit is None:
            return
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        count = await self._increment(key.id, window)
        if count > limit:
            retry_after = max(1.0, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise RateLimited(
                f"API key {key.id} is limited to {limit} requests per minute; retry in {retry_after:.0f} s",
                retry_after=retry_after,
            )

    async def _increment(self, key_id: str, window: int) -> int:
        bump = (
            update(RateWindowRow)
            .where(RateWindowRow.key_id == key_id, RateWindowRow.window == window)
            .values(count=RateWindowRow.count + 1)
        )
        for _ in range(3):  # a concurrent first request of the window may win the insert: update again
            try:
                async with self.engine.begin() as connection:
                    if (await connection.execute(bump)).rowcount == 0:
                        await connection.execute(
                            delete(RateWindowRow).where(RateWindowRow.key_id == key_id, RateWindowRow.window < window)
                        )
                        await connection.execute(insert(RateWindowRow).values(key_id=key_id, window=window, count=1))
                        return 1
                    count = await connection.scalar(
                        select(RateWindowRow.count).where(
                            RateWindowRow.key_id == key_id, RateWindowRow.window == window
                        )
                    )
                    return int(count or 0)
            except IntegrityError:
                continue
        raise RateLimited("too many concurrent requests for this API key; retry shortly", retry_after=1.0)


def admit_job(connection: Connection, owner: str, cost_estimate: float, defaults: DefaultLimits) -> None:
    """Inside the job's insert transaction: enforce the key's concurrency limit and hold its budget.

    Runs after the new job row is flushed, so the count includes it. Raising rolls the job back.
    """
    columns = select(ApiKeyRow.max_concurrent, ApiKeyRow.budget_usd, ApiKeyRow.spent_usd)
    row = (connection.execute(columns.where(ApiKeyRow.id == owner).with_for_update())).one_or_none()
    if row is None:
        return
    own_concurrent, own_budget, spent = row
    max_concurrent = own_concurrent if own_concurrent is not None else defaults.max_concurrent
    if max_concurrent is not None:
        running = count_unfinished(connection, owner)
        if running > max_concurrent:
            raise RateLimited(
                f"API key {owner} already has {max_concurrent} unfinished videos, its limit; retry when one "
                "finishes (or cancel one with POST /v1/videos/{id}/cancel)",
                retry_after=CONCURRENCY_RETRY_AFTER,
            )
    budget = own_budget if own_budget is not None else defaults.budget_usd
    if budget is not None and spent + cost_estimate > budget + 1e-9:
        left = max(0.0, budget - spent)
        raise InsufficientQuota(
            f"this video is estimated at ${cost_estimate:.4f} but API key {owner} has ${left:.4f} of its "
            f"${budget:.2f} budget left; ask an admin to raise the budget (estimate first with ?dryRun=true)"
        )
    if cost_estimate:
        connection.execute(
            update(ApiKeyRow).where(ApiKeyRow.id == owner).values(spent_usd=ApiKeyRow.spent_usd + cost_estimate)
        )
