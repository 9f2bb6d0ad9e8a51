"""The ledger: a hold per job, and exactly one ending (settled at a cost, or released in full).

Every transition is one guarded statement, ``UPDATE billing_ledger … WHERE video_id = :id AND state =
'held'``: of any number of concurrent callers (workers, the reconciliation sweep, a cancel) exactly one
sees a row count of 1 and applies the key-budget adjustment in the same transaction; the others do
nothing. A crash before the commit leaves the hold in place for the sweep to settle.

The key's ``api_keys.spent_usd`` always equals its holds plus its settled charges: the hold adds the
estimate (``security.ratelimit.admit_job`` checks the budget against it in the same transaction), a
settlement adds ``charged - held``, a release subtracts ``held``. So a key can never start more than
its budget, and money comes back when a job is refunded.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.billing.models import EntryState, LedgerRow
from reelay.jobs.models import VideoJob, VideoRow
from reelay.security.models import ApiKeyRow, scope_of

CURRENCY = "USD"


@dataclass(frozen=True)
class LedgerEntry:
    """One job's money, as the rest of the code sees it."""

    video_id: str
    scope: str
    model: str
    provider: str
    day: str
    state: EntryState
    held_usd: float
    charged_usd: float
    basis: str
    reason: str | None
    created_at: float
    ended_at: float | None

    @classmethod
    def from_row(cls, row: LedgerRow | Row[Any]) -> LedgerEntry:
        return cls(
            video_id=row.video_id,
            scope=row.scope,
            model=row.model,
            provider=row.provider,
            day=row.day,
            state=EntryState(row.state),
            held_usd=row.held_usd,
            charged_usd=row.charged_usd,
            basis=row.basis,
            reason=row.reason,
            created_at=row.created_at,
            ended_at=row.ended_at,
        )

    @property
    def settled_usd(self) -> float | None:
        """What the job cost once it ended (0 when released); None while held."""
        return None if self.state is EntryState.HELD else self.charged_usd


@dataclass(frozen=True)
class Ending:
    """How a job's hold ends: charged ``amount`` (settle) or nothing (release), and why."""

    settle: bool
    amount: float
    basis: str  # reported | computed | mixed | hold | none
    reason: str


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


# Built once (every create runs it): a per-call ``insert(...).values(...)`` cost more than the insert.
_INSERT_ENTRY = insert(LedgerRow.metadata.tables[LedgerRow.__tablename__])


class Ledger:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def hold(self, connection: Connection, job: VideoJob) -> None:
        """Inside the job's insert transaction: reserve its estimate (the key's budget is bumped by
        ``admit_job`` in the same transaction, which checks it first)."""
        now = time.time()
        connection.execute(
            _INSERT_ENTRY,
            {
                "video_id": job.id,
                "scope": scope_of(job.owner),
                "model": job.model,
                "provider": job.provider,
                "day": utc_day(job.created_at or now),
                "state": EntryState.HELD.value,
                "held_usd": job.cost_estimate,
                "charged_usd": 0.0,
                "basis": "",
                "reason": None,
                "created_at": now,
                "ended_at": None,
            },
        )

    async def end(self, video_id: str, ending: Ending, *, provider: str | None = None) -> LedgerEntry | None:
        """Settle or release the hold once; the ended entry, or None if it was not held (already
        ended by someone else, or never held)."""
        state = EntryState.SETTLED if ending.settle else EntryState.RELEASED
        charged = max(0.0, ending.amount) if ending.settle else 0.0
        values: dict[str, object] = {
            "state": state.value,
            "charged_usd": charged,
            "basis": ending.basis,
            "reason": ending.reason,
            "ended_at": time.time(),
        }
        if provider is not None:
            values["provider"] = provider
        guarded = (
            update(LedgerRow)
            .where(LedgerRow.video_id == video_id, LedgerRow.state == EntryState.HELD.value)
            .values(**values)
        )
        async with self.engine.begin() as connection:
            if (await connection.execute(guarded)).rowcount != 1:
                return None
            row = (await connection.execute(select(LedgerRow).where(LedgerRow.video_id == video_id))).one()
            entry = LedgerEntry.from_row(row)
            delta = entry.charged_usd - entry.held_usd
            if entry.scope and delta:
                await connection.execute(
                    update(ApiKeyRow).where(ApiKeyRow.id == entry.scope).values(spent_usd=ApiKeyRow.spent_usd + delta)
                )
        return entry

    async def entry(self, video_id: str) -> LedgerEntry | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(LedgerRow).where(LedgerRow.video_id == video_id))).one_or_none()
        return LedgerEntry.from_row(row) if row is not None else None

    async def entries(self, video_ids: Sequence[str]) -> dict[str, LedgerEntry]:
        if not video_ids:
            return {}
        query = select(LedgerRow).where(LedgerRow.video_id.in_(list(video_ids)))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row.video_id: LedgerEntry.from_row(row) for row in rows}

    async def stale_holds(self, *, finished: Sequence[str], limit: int = 100) -> tuple[list[str], list[str]]:
        """Holds the listener should have ended: (ids of finished jobs, ids whose job row is gone)."""
        held = LedgerRow.state == EntryState.HELD.value
        ended_jobs = (
            select(LedgerRow.video_id)
            .join(VideoRow, VideoRow.id == LedgerRow.video_id)
            .where(held, VideoRow.status.in_(list(finished)))
            .limit(limit)
        )
        orphans = (
            select(LedgerRow.video_id)
            .outerjoin(VideoRow, VideoRow.id == LedgerRow.video_id)
            .where(held, VideoRow.id.is_(None))
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            done = list((await connection.scalars(ended_jobs)).all())
            gone = list((await connection.scalars(orphans)).all())
        return done, gone
