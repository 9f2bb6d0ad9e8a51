"""Durable webhook delivery: a row per event, sent by a loop with retries, surviving restarts.

- ``WebhookListener`` is a worker ``JobListener``: when a job with a ``webhook_url`` ends, it inserts
  the delivery row (unique per video and event, so a repeated notification cannot send twice) before
  returning, so a crash right after the job ended still delivers.
- ``DeliveryLoop`` sends due rows. Each attempt first takes a short lease on the row (several API
  processes may run loops), re-checks the URL (DNS may have changed since submit) and connects to the
  checked address (``security.fetch.post_bytes``). A 2xx ends the row ``delivered``; anything else is
  retried after ``retry_delays`` (5 s, 15 s, 45 s by default) and then ends ``failed``. Pending rows
  are simply picked up again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.errors import ReelayError
from reelay.jobs.models import VideoJob
from reelay.security.fetch import FetchPolicy, Resolver, post_bytes
from reelay.security.models import VideoWebhookRow, WebhookDeliveryRow, scope_of
from reelay.security.webhooks import (
    EVENTS,
    WebhookSecrets,
    encode_body,
    event_payload,
    refuse_ip_literal,
    signed_headers,
)

log = logging.getLogger("reelay.webhooks")

OutputLink = Callable[[VideoJob], "str | None"]
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class _Delivery:
    id: str
    video_id: str
    scope: str
    url: str
    payload: dict[str, Any]
    attempts: int


def subscribe(connection: Connection, video_id: str, owner: str | None, url: str) -> None:
    """Inside the video's insert transaction: remember where its events go."""
    connection.execute(
        insert(VideoWebhookRow).values(video_id=video_id, scope=scope_of(owner), url=url, created_at=time.time())
    )


class WebhookListener:
    """Turns "a job ended" into a stored delivery (the worker calls this exactly once per ending)."""

    def __init__(self, engine: AsyncEngine, output_link: OutputLink, wake: Callable[[], None] = lambda: None) -> None:
        self.engine = engine
        self.output_link = output_link
        self.wake = wake

    async def job_finished(self, job: VideoJob) -> None:
        if job.status not in EVENTS:
            return
        async with self.engine.connect() as connection:
            target = (
                await connection.execute(
                    select(VideoWebhookRow.url, VideoWebhookRow.scope).where(VideoWebhookRow.video_id == job.id)
                )
            ).one_or_none()
        if target is None:
            return
        url, scope = target
        payload = event_payload(job, self.output_link(job))
        now = time.time()
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    insert(WebhookDeliveryRow).values(
                        id=f"msg_{uuid.uuid4().hex}",
                        video_id=job.id,
                        scope=scope,
                        url=url,
                        event_type=payload["type"],
                        payload=payload,
                        status=PENDING,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:  # this event was already stored (a repeated notification)
            return
        self.wake()


class DeliveryLoop:
    def __init__(
        self,
        engine: AsyncEngine,
        secrets: WebhookSecrets,
        policy: FetchPolicy,
        *,
        retry_delays: Sequence[float] = (5.0, 15.0, 45.0),
        poll_interval: float = 1.0,
        resolver: Resolver | None = None,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
        on_outcome: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        """``on_outcome`` hears "delivered", "retry" or "gave_up" for every attempt (the metrics)."""
        self.engine = engine
        self.on_outcome = on_outcome
        self.secrets = secrets
        self.policy = policy
        self.retry_delays = tuple(retry_delays)
        self.poll_interval = poll_interval
        self.resolver = resolver
        self.transport_factory = transport_factory
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sending: set[str] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("webhook delivery pass failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    async def run_once(self) -> int:
        """Send every due delivery (concurrently); how many were attempted."""
        now = time.time()
        query = (
            select(WebhookDeliveryRow.id)
            .where(
                WebhookDeliveryRow.status == PENDING,
                WebhookDeliveryRow.next_attempt_at <= now,
                or_(WebhookDeliveryRow.lease_expires_at.is_(None), WebhookDeliveryRow.lease_expires_at < now),
            )
            .order_by(WebhookDeliveryRow.next_attempt_at.asc())
            .limit(50)
        )
        async with self.engine.connect() as connection:
            due = [d for d in (await connection.scalars(query)).all() if d not in self._sending]
        await asyncio.gather(*(self._attempt(delivery_id) for delivery_id in due))
        return len(due)

    async def _claim(self, delivery_id: str) -> _Delivery | None:
        now = time.time()
        lease = now + self.policy.timeout + 30
        claim = (
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.id == delivery_id,
                WebhookDeliveryRow.status == PENDING,
                or_(WebhookDeliveryRow.lease_expires_at.is_(None), WebhookDeliveryRow.lease_expires_at < now),
            )
            .values(lease_expires_at=lease, attempts=WebhookDeliveryRow.attempts + 1)
        )
        async with self.engine.begin() as connection:
            if (await connection.execute(claim)).rowcount != 1:
                return None
            columns = select(
                WebhookDeliveryRow.id,
                WebhookDeliveryRow.video_id,
                WebhookDeliveryRow.scope,
                WebhookDeliveryRow.url,
                WebhookDeliveryRow.payload,
                WebhookDeliveryRow.attempts,
            )
            row = (await connection.execute(columns.where(WebhookDeliveryRow.id == delivery_id))).one()
        return _Delivery(*row)

    async def _attempt(self, delivery_id: str) -> None:
        self._sending.add(delivery_id)
        try:
            row = await self._claim(delivery_id)
            if row is None:
                return
            error = await self._send(row)
            await self._record(row, error)
        finally:
            self._sending.discard(delivery_id)

    async def _send(self, row: _Delivery) -> str | None:
        """None on success, else why the attempt failed (never the response body)."""
        body = encode_body(row.payload)
        headers = signed_headers(await self.secrets.get(row.scope), row.id, body)
        headers["user-agent"] = "Reelay-webhooks/1"
        transport = self.transport_factory() if self.transport_factory is not None else None
        try:
            refuse_ip_literal(row.url, self.policy)
            status = await post_bytes(
                row.url, body, headers=headers, policy=self.policy, resolver=self.resolver, transport=transport
            )
        except ReelayError as error:
            return error.message
        finally:
            if transport is not None:
                await transport.aclose()
        return None if 200 <= status < 300 else f"the endpoint answered HTTP {status}"

    async def _record(self, row: _Delivery, error: str | None) -> None:
        now = time.time()
        values: dict[str, Any] = {"lease_expires_at": None, "last_error": error}
        outcome = "delivered" if error is None else "gave_up" if row.attempts > len(self.retry_delays) else "retry"
        self.on_outcome(outcome)
        if error is None:
            values.update(status=DELIVERED, delivered_at=now)
        elif row.attempts > len(self.retry_delays):
            values.update(status=FAILED)
            log.warning("webhook gave up", extra={"delivery": row.id, "video_id": row.video_id, "error": error})
        else:
            values.update(next_attempt_at=now + self.retry_delays[row.attempts - 1])
            log.info("webhook will retry", extra={"delivery": row.id, "attempt": row.attempts, "error": error})
        async with self.engine.begin() as connection:
            await connection.execute(update(WebhookDeliveryRow).where(WebhookDeliveryRow.id == row.id).values(**values))
