"""Builds the "safe to expose" pieces from settings: the guard (keys, limits, idempotency, webhook
checks), the webhook listener the worker reports to, and the delivery loop. Called by ``create_app``
only, so every process that serves the API wires them the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.api.guard import Guard
from reelay.api.metrics import WEBHOOK_DELIVERIES
from reelay.api.present import Links
from reelay.billing.ledger import Ledger
from reelay.config import Settings
from reelay.jobs.idempotency import IdempotencyStore
from reelay.jobs.models import JobStatus, VideoJob
from reelay.jobs.webhook_delivery import DeliveryLoop, WebhookListener
from reelay.security.keys import KeyStore
from reelay.security.ratelimit import DefaultLimits, RateLimiter
from reelay.security.webhooks import WebhookSecrets, webhook_policy


@dataclass
class Security:
    guard: Guard
    listener: WebhookListener
    deliveries: DeliveryLoop
    ledger: Ledger


def build_security(settings: Settings, engine: AsyncEngine, links: Links) -> Security:
    base_url = settings.public_url or f"http://{settings.host}:{settings.port}"

    def output_link(job: VideoJob) -> str | None:
        if job.status is not JobStatus.COMPLETED or not job.outputs:
            return None
        return links.url(base_url, job.outputs[0].key, int(job.expires_at or time.time() + 3600))

    policy = webhook_policy(
        allow_http=settings.webhook_allow_http,
        allowed_hosts=frozenset(settings.webhook_allow_hosts),
        timeout=settings.webhook_timeout,
    )
    secrets = WebhookSecrets(engine)
    delays = tuple(settings.webhook_retry_delays)
    deliveries = DeliveryLoop(
        engine,
        secrets,
        policy,
        retry_delays=delays,
        poll_interval=min([1.0, *(d / 2 for d in delays)]),
        on_outcome=lambda outcome: WEBHOOK_DELIVERIES.labels(outcome=outcome).inc(),
    )
    listener = WebhookListener(engine, output_link, wake=deliveries.wake)
    defaults = DefaultLimits(
        rpm=settings.default_rpm, max_concurrent=settings.default_max_concurrent, budget_usd=settings.default_budget_usd
    )
    ledger = Ledger(engine)
    guard = Guard(
        keys=KeyStore(engine),
        limiter=RateLimiter(engine, defaults),
        defaults=defaults,
        idempotency=IdempotencyStore(engine, ttl_seconds=settings.idempotency_hours * 3600),
        webhook_policy=policy,
        secrets=secrets,
        listener=listener,
        ledger=ledger,
    )
    return Security(guard=guard, listener=listener, deliveries=deliveries, ledger=ledger)
