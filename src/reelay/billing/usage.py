"""Spend, holds and refunds from the ledger, grouped by key, model, provider and day (UTC day of the hold).

- spent: what settled jobs were charged;
- held: estimates still reserved by unfinished (or not yet settled) jobs;
- refunded: holds released in full (the job cost nothing);
- jobs: ledger entries in the group.
Sums are computed by the database in one grouped query, so they equal the ledger by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import InstrumentedAttribute

from reelay.billing.models import EntryState, LedgerRow


@dataclass(frozen=True)
class UsageLine:
    key: str
    model: str
    provider: str
    day: str
    spent_usd: float
    held_usd: float
    refunded_usd: float
    jobs: int


@dataclass(frozen=True)
class UsageFilter:
    """``scope`` None: every key (admins only); ``start``/``end``: inclusive UTC days, YYYY-MM-DD."""

    scope: str | None
    start: str | None = None
    end: str | None = None


def _sum_where(state: EntryState, column: InstrumentedAttribute[float]) -> ColumnElement[float]:
    return func.coalesce(func.sum(case((LedgerRow.state == state.value, column), else_=0.0)), 0.0)


async def usage_lines(engine: AsyncEngine, where: UsageFilter) -> list[UsageLine]:
    groups = (LedgerRow.scope, LedgerRow.model, LedgerRow.provider, LedgerRow.day)
    query = select(
        *groups,
        _sum_where(EntryState.SETTLED, LedgerRow.charged_usd),
        _sum_where(EntryState.HELD, LedgerRow.held_usd),
        _sum_where(EntryState.RELEASED, LedgerRow.held_usd),
        func.count(),
    ).group_by(*groups)
    if where.scope is not None:
        query = query.where(LedgerRow.scope == where.scope)
    if where.start is not None:
        query = query.where(LedgerRow.day >= where.start)
    if where.end is not None:
        query = query.where(LedgerRow.day <= where.end)
    query = query.order_by(LedgerRow.day, LedgerRow.scope, LedgerRow.model, LedgerRow.provider)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        UsageLine(
            key=scope,
            model=model,
            provider=provider,
            day=day,
            spent_usd=float(spent),
            held_usd=float(held),
            refunded_usd=float(refunded),
            jobs=int(jobs),
        )
        for scope, model, provider, day, spent, held, refunded, jobs in rows
    ]
