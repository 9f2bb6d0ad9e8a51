"""``metadata.cost`` of a video object: from the job while it runs, from the ledger once it ended.

Unfinished videos are answered from the job row alone (no extra read on the polling path) and say what
a cancel would cost now; finished ones read their ledger entry (one primary-key read, or one batch for
a list page).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from reelay.api.deps import AppContext
from reelay.api.schemas import VideoCost
from reelay.billing.ledger import LedgerEntry
from reelay.billing.rules import decide
from reelay.errors import ModelNotFound
from reelay.jobs.models import JobStatus, VideoJob


def _if_cancelled(ctx: AppContext, job: VideoJob) -> float:
    try:
        card = ctx.catalog.get(job.model)
    except ModelNotFound:
        card = None
    ending = decide(dataclasses.replace(job, status=JobStatus.CANCELLED), card)
    return round(ending.amount, 6) if ending.settle else 0.0


def cost_of(ctx: AppContext, job: VideoJob, entry: LedgerEntry | None) -> VideoCost | None:
    if not job.status.finished:
        return VideoCost(estimate=job.cost_estimate, settled=None, state="held", if_cancelled=_if_cancelled(ctx, job))
    if entry is None:
        return None  # made before the ledger existed, or its hold is being written
    return VideoCost(
        estimate=entry.held_usd,
        settled=entry.settled_usd,
        state=entry.state.value,
        basis=entry.basis or None,
        reason=entry.reason,
    )


async def video_cost(ctx: AppContext, job: VideoJob) -> VideoCost | None:
    ledger = ctx.guard.ledger if ctx.guard is not None else None
    entry = await ledger.entry(job.id) if ledger is not None and job.status.finished else None
    return cost_of(ctx, job, entry)


async def video_costs(ctx: AppContext, jobs: Sequence[VideoJob]) -> dict[str, VideoCost | None]:
    ledger = ctx.guard.ledger if ctx.guard is not None else None
    finished = [job.id for job in jobs if job.status.finished]
    entries = await ledger.entries(finished) if ledger is not None else {}
    return {job.id: cost_of(ctx, job, entries.get(job.id)) for job in jobs}
