"""Event fan-out, once: every stage that ends a job tells ``JobEvents``, which tells the listeners.

Listeners are webhooks (``jobs.webhook_delivery``), metrics (``api.metrics``) and, in future, any
other subscriber. A failing listener is logged, never fatal: the job has already ended durably.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from reelay.jobs.models import VideoJob

log = logging.getLogger("reelay.worker")


class JobListener(Protocol):
    """Told once a job has ended (completed, failed or cancelled): webhooks, metrics, logs."""

    async def job_finished(self, job: VideoJob) -> None: ...


class JobEvents:
    def __init__(self, listeners: Sequence[JobListener] = ()) -> None:
        self.listeners = list(listeners)

    async def ended(self, job: VideoJob) -> None:
        """Tell every listener the job ended."""
        for listener in self.listeners:
            try:
                await listener.job_finished(job)
            except Exception:
                log.exception("job listener failed", extra={"job_id": job.id})


__all__ = ["JobEvents", "JobListener"]
