"""What stands between a request and the service: who is asking, and whether a create may happen.

``Guard.authenticate`` backs the ``principal`` dependency (every route except health, signed file
links and the docs): the bearer key is verified and counted against its per-minute limit. With no
keys configured it answers the single local owner, as Reelay did before keys existed.

``Guard.create`` wraps every create (generate, edit, extend, remix): it validates ``webhook_url`` and
``Idempotency-Key``, replays an earlier create made under the same key, and hands the service one
hook that runs INSIDE the job's insert transaction (idempotency row, key limits and budget, the
ledger's hold, webhook target), so either all of them and the job commit, or none do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from reelay.billing.ledger import Ledger
from reelay.errors import AuthenticationFailed, Conflict, UnsupportedParameter, VideoNotFound
from reelay.jobs.idempotency import (
    HEADER,
    DuplicateKey,
    IdempotencyClaim,
    IdempotencyStore,
    fingerprint,
    validate_key,
)
from reelay.jobs.layout import inputs_prefix
from reelay.jobs.models import VideoJob
from reelay.jobs.service import CreateRequest, Estimate, Principal, VideoService
from reelay.jobs.store import InsertHook
from reelay.jobs.webhook_delivery import WebhookListener, subscribe
from reelay.security.fetch import FetchPolicy, Resolver
from reelay.security.keys import KeyStore
from reelay.security.models import scope_of
from reelay.security.ratelimit import DefaultLimits, RateLimiter, admit_job
from reelay.security.webhooks import WebhookSecrets, check_webhook_url

log = logging.getLogger("reelay.api")

CreateCall = Callable[[InsertHook | None], Awaitable[VideoJob | Estimate]]


@dataclass
class Guard:
    keys: KeyStore
    limiter: RateLimiter
    defaults: DefaultLimits
    idempotency: IdempotencyStore
    webhook_policy: FetchPolicy
    secrets: WebhookSecrets
    listener: WebhookListener
    resolver: Resolver | None = None  # tests stub DNS here
    ledger: Ledger | None = None  # the job's hold is taken in its insert transaction

    async def authenticate(self, authorization: str | None) -> Principal:
        if not await self.keys.any_configured():
            return Principal(owner=None, admin=True)
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed(
                "this Reelay requires an API key: send Authorization: Bearer rly_<id>.<secret> "
                "(an admin creates keys with `reelay keys create`)"
            )
        key = await self.keys.verify(token.strip())
        await self.limiter.hit(key)
        if key.last_used_at is None or key.last_used_at < time.time() - 60:
            await self.keys.touch(key.id)
        return Principal(owner=key.id, admin=key.admin)

    async def create(
        self,
        service: VideoService,
        who: Principal,
        operation: str,
        request: CreateRequest,
        idempotency_key: str | None,
        call: CreateCall,
        *,
        dry_run: bool = False,
    ) -> tuple[VideoJob | Estimate, bool]:
        """Run ``call`` with the in-transaction hook; (result, replayed). Replayed = an earlier create's video."""
        key = validate_key(idempotency_key)
        webhook_url = request.webhook_url
        if webhook_url is not None:
            webhook_url = await check_webhook_url(webhook_url, self.webhook_policy, self.resolver)
        claim = None
        if key is not None and not dry_run:
            claim = IdempotencyClaim(scope_of(who.owner), key, fingerprint(operation, request, webhook_url))
            earlier = await self.idempotency.lookup(claim)
            if earlier is not None:
                return await self._replay(service, who, earlier, key), True
        attempted: list[str] = []

        def on_insert(connection: Connection, job: VideoJob) -> None:
            attempted.append(job.id)
            if claim is not None:
                self.idempotency.record(connection, claim, job.id)
            if who.owner is not None:
                admit_job(connection, who.owner, job.cost_estimate, self.defaults)
            if self.ledger is not None:
                self.ledger.hold(connection, job)
            if webhook_url is not None:
                subscribe(connection, job.id, who.owner, webhook_url)

        try:
            return await call(on_insert), False
        except DuplicateKey:
            assert claim is not None
            log.info("idempotency race lost; answering with the first request's video", extra={"key": claim.key})
            for video_id in attempted:  # the losing attempt's stored inputs; its row was rolled back
                await service.storage.delete_prefix(inputs_prefix(video_id))
            earlier = await self.idempotency.lookup(claim)
            if earlier is None:  # the winner expired in between: vanishingly unlikely, ask for a retry
                raise Conflict(
                    f"{HEADER} {claim.key!r} is being used by another request; retry", param=HEADER
                ) from None
            return await self._replay(service, who, earlier, claim.key), True

    async def _replay(self, service: VideoService, who: Principal, video_id: str, key: str) -> VideoJob:
        try:
            return await service.get(who, video_id)
        except VideoNotFound:
            raise VideoNotFound(
                f"the video {video_id} created under {HEADER} {key!r} was deleted; use a new key to create another",
                param=HEADER,
            ) from None

    async def webhook_secret(self, who: Principal) -> str:
        return await self.secrets.get(scope_of(who.owner))


def remix_request(prompt: Any, fields: dict[str, Any]) -> CreateRequest:
    """A remix's fields in the shape ``Guard.create`` fingerprints (``webhook_url`` taken out)."""
    webhook_url = fields.pop("webhook_url", None)
    if fields.get("deadline_seconds") is not None:  # a gateway field: never passed through upstream
        raise UnsupportedParameter(
            "deadline_seconds is not supported on remix; create the video with POST /v1/videos/edits "
            '(video: {"id": …}) to set a deadline',
            param="deadline_seconds",
        )
    fields.pop("deadline_seconds", None)
    return CreateRequest(prompt=prompt, extra=dict(fields), webhook_url=webhook_url)


async def guarded_create(
    guard: Guard | None,
    service: VideoService,
    who: Principal,
    operation: str,
    request: CreateRequest,
    idempotency_key: str | None,
    call: CreateCall,
    *,
    dry_run: bool = False,
) -> tuple[VideoJob | Estimate, bool]:
    """``Guard.create`` when the app has a guard (it always does when built by ``create_app``)."""
    if guard is None:
        return await call(None), False
    return await guard.create(service, who, operation, request, idempotency_key, call, dry_run=dry_run)
