"""``BillingListener``: ends a job's hold when the job ends, and a sweep that catches what it missed.

The worker (or the service, for a queued job cancelled at once) tells every ``JobListener`` once per
ended job. A crash between the job ending and this listener leaves the hold ``held``; ``reconcile``
(on the worker's sweep beat) finds finished jobs whose hold is still held and ends them the same way.
The ledger's guarded update makes the listener and the sweep safe to race.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from reelay.billing.ledger import Ending, Ledger, LedgerEntry
from reelay.billing.rules import decide
from reelay.catalog import Catalog, ModelCard
from reelay.errors import ModelNotFound
from reelay.jobs.models import JobStatus, VideoJob
from reelay.jobs.store import JobStore

log = logging.getLogger("reelay.billing")

OnEnded = Callable[[LedgerEntry], None]
FINISHED = tuple(status.value for status in JobStatus if status.finished)


class BillingListener:
    def __init__(self, ledger: Ledger, catalog: Catalog, store: JobStore, on_ended: OnEnded | None = None) -> None:
        self.ledger = ledger
        self.catalog = catalog
        self.store = store
        self.on_ended = on_ended

    def card(self, model: str) -> ModelCard | None:
        try:
            return self.catalog.get(model)
        except ModelNotFound:
            return None

    async def job_finished(self, job: VideoJob) -> None:
        await self._end(job.id, decide(job, self.card(job.model)), job.provider)

    async def _end(self, video_id: str, ending: Ending, provider: str | None) -> None:
        entry = await self.ledger.end(video_id, ending, provider=provider)
        if entry is None:
            return  # already ended (by a racing worker or the sweep), or created before the ledger existed
        log.info(
            "job settled" if ending.settle else "hold released",
            extra={"job_id": video_id, "provider": entry.provider, "charged_usd": entry.charged_usd},
        )
        if self.on_ended is not None:
            self.on_ended(entry)

    async def reconcile(self) -> int:
        """End every hold whose job has finished (or whose row is gone); how many were ended."""
        finished, gone = await self.ledger.stale_holds(finished=FINISHED)
        for video_id in finished:
            job = await self.store.get(video_id, include_deleted=True)
            if job is not None and job.status.finished:
                await self.job_finished(job)
        for video_id in gone:  # purged without an ending we saw: nothing was delivered to charge for
            await self._end(video_id, Ending(False, 0.0, "none", "the job was removed before it was settled"), None)
        return len(finished) + len(gone)
