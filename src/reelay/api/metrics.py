"""Prometheus metrics: what they are, how jobs feed them, and the ``/metrics`` route.

Owns every metric Reelay exports (one registry, so a scrape shows Reelay's numbers only). Other code
increments them; nothing here decides behaviour. Where the numbers come from:

- HTTP requests: ``api.request_context`` (route *template*, never the raw path, so ids do not explode
  the label set).
- Finished jobs, job duration, provider latency, output bytes: ``MetricsListener``, a ``JobListener``
  the worker tells once per ended job (in scale-out mode that happens in the ``reelay worker``
  processes, which are not scraped through the API; see docs/operations.md).
- Jobs by status and queue depth: read from the job table at scrape time, so they are right across
  restarts and across processes.
- Spend and refunds: ``record_ledger_ending``, called by ``billing.BillingListener`` once per hold
  it ends (the ledger's guarded update makes that exactly once per job).
- Webhook deliveries: ``WEBHOOK_DELIVERIES.labels(outcome=…).inc()`` from the delivery loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from reelay.api.deps import AppContext, context, principal
from reelay.billing.ledger import LedgerEntry
from reelay.billing.models import EntryState
from reelay.errors import NotFound, PermissionDenied
from reelay.jobs.models import JobStatus, VideoJob

REGISTRY = CollectorRegistry(auto_describe=True)

_DURATION_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)

HTTP_REQUESTS = Counter(
    "reelay_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=REGISTRY
)
HTTP_DURATION = Histogram(
    "reelay_http_request_duration_seconds", "time to answer an HTTP request", ["method", "route"], registry=REGISTRY
)
JOBS_FINISHED = Counter(
    "reelay_jobs_finished", "jobs that ended, by outcome", ["model", "provider", "status"], registry=REGISTRY
)
JOBS = Gauge("reelay_jobs", "jobs in the database by status (not deleted)", ["status"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("reelay_queue_depth", "jobs waiting for a worker (status queued)", registry=REGISTRY)
JOB_DURATION = Histogram(
    "reelay_job_duration_seconds",
    "created → ended, by outcome",
    ["model", "provider", "status"],
    buckets=_DURATION_BUCKETS,
    registry=REGISTRY,
)
PROVIDER_LATENCY = Histogram(
    "reelay_provider_latency_seconds",
    "first submission to the provider → completed (job duration when no submission time is known)",
    ["provider"],
    buckets=_DURATION_BUCKETS,
    registry=REGISTRY,
)
BYTES_STORED = Counter(
    "reelay_output_bytes_stored", "bytes of finished videos written to storage", ["provider"], registry=REGISTRY
)
SPEND = Counter(
    "reelay_spend_usd", "USD charged for settled jobs, by provider and model", ["provider", "model"], registry=REGISTRY
)
REFUNDS = Counter(
    "reelay_refunds_usd",
    "USD of holds released in full (jobs that cost nothing)",
    ["provider", "model"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "reelay_webhook_deliveries", "webhook delivery attempts, by outcome", ["outcome"], registry=REGISTRY
)


class MetricsListener:
    """A ``JobListener``: records each ended job once (the worker calls it exactly once per job)."""

    async def job_finished(self, job: VideoJob) -> None:
        status = job.status.value
        JOBS_FINISHED.labels(job.model, job.provider, status).inc()
        ended = job.completed_at
        if ended is None:
            return
        JOB_DURATION.labels(job.model, job.provider, status).observe(max(0.0, ended - job.created_at))
        if job.status is JobStatus.COMPLETED:
            submitted = [run.submitted_at for run in job.runs if run.submitted_at]
            start = min(submitted) if submitted else job.created_at
            PROVIDER_LATENCY.labels(job.provider).observe(max(0.0, ended - start))
            BYTES_STORED.labels(job.provider).inc(sum(output.bytes for output in job.outputs))


def record_ledger_ending(entry: LedgerEntry) -> None:
    """Spend (settled) or refund (released) of one job, counted once."""
    if entry.state is EntryState.SETTLED:
        SPEND.labels(entry.provider, entry.model).inc(entry.charged_usd)
    elif entry.state is EntryState.RELEASED:
        REFUNDS.labels(entry.provider, entry.model).inc(entry.held_usd)


async def refresh_job_gauges(ctx: AppContext) -> None:
    """Jobs by status and queue depth, counted in the job table (the durable truth) at scrape time."""
    counts = await ctx.service.store.status_counts()
    for status in JobStatus:
        JOBS.labels(status.value).set(counts.get(status.value, 0))
    QUEUE_DEPTH.set(counts.get(JobStatus.QUEUED.value, 0))


router = APIRouter(tags=["health"])

MetricsAccess = Literal["admin", "open", "off"]


def metrics_access(access: MetricsAccess) -> Callable[[Request], Awaitable[None]]:
    """The ``/metrics`` dependency for ``REELAY_METRICS_ACCESS`` (docs/operations.md).

    ``admin`` (default): an admin key once keys exist (while none exist every route is open on
    loopback, this one too). ``open``: no key, for a scraper on a private network. ``off``: 404.
    """

    async def check(request: Request) -> None:
        if access == "off":
            raise NotFound("metrics are turned off on this server (REELAY_METRICS_ACCESS=off)")
        if access == "open":
            return
        if not (await principal(request)).admin:
            raise PermissionDenied(
                "GET /metrics needs an admin key; or set REELAY_METRICS_ACCESS=open for a private scraper"
            )

    return check


@router.get("/metrics", summary="Prometheus metrics (text exposition format)", response_class=Response)
async def metrics(ctx: Annotated[AppContext, Depends(context)]) -> Response:
    await refresh_job_gauges(ctx)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
