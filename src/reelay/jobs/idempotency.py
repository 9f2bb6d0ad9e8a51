"""``Idempotency-Key``: a retried create returns the video the first attempt made, never a second one.

Keys are scoped per API key (``scope_of(owner)``) and kept ``ttl_seconds`` (24 h). What makes
concurrent duplicates safe is the database, not a lock in this process: the ``(scope, key)`` row is
inserted in the SAME transaction as the video row, under a unique constraint, so of N racing
requests exactly one commits its job; the others roll back (job row included) and answer with the
winner's video. A replay with a different body (``fingerprint``) is a 409 ``idempotency_conflict``.

The fingerprint hashes the parsed request (not the raw bytes), so the same fields sent as JSON or as
multipart with another boundary are the same request; uploaded files count by their content.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.errors import IdempotencyConflict, InvalidRequest
from reelay.jobs.inputs import MediaSource
from reelay.jobs.service import CreateRequest
from reelay.security.models import IdempotencyRow

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 256
DEFAULT_TTL_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class IdempotencyClaim:
    """One request's claim on a key: who, which key, and what it asked for."""

    scope: str
    key: str
    fingerprint: str


class DuplicateKey(Exception):
    """Another request committed the same key first (raised inside the insert transaction)."""


def validate_key(raw: str | None) -> str | None:
    """The header value, or None when absent. 400 when empty, longer than 256 or not printable ASCII."""
    if raw is None:
        return None
    if not raw or len(raw) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters (got {len(raw)}); a UUID is a good choice",
            param=HEADER,
        )
    if not all(" " <= c <= "~" for c in raw):
        raise InvalidRequest(f"{HEADER} must be printable ASCII; a UUID is a good choice", param=HEADER)
    return raw


def fingerprint(operation: str, request: CreateRequest, webhook_url: Any = None) -> str:
    """SHA-256 of the request's meaning: fields, uploads by content, the operation and webhook."""
    body = {
        "operation": operation,
        "prompt": request.prompt,
        "model": request.model,
        "seconds": _number(request.seconds),
        "seconds_field": request.seconds_field,
        "size": request.size,
        "aspect_ratio": request.aspect_ratio,
        "resolution": _number(request.resolution),
        "n": _number(request.n),
        "seed": _number(request.seed),
        "reference_mode": request.reference_mode,
        "deadline_seconds": request.deadline_seconds,
        "references": [_source(s) for s in request.references],
        "video": _source(request.video) if request.video is not None else None,
        "extra": request.extra,
        "webhook_url": webhook_url,
    }
    encoded = json.dumps(body, sort_keys=True, default=str, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def _number(value: Any) -> Any:
    """``1``, ``1.0``, ``"1"`` and ``" 1 "`` alike: a multipart form has only strings, JSON has numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        return value if isinstance(value, str) else f"huge:{type(value).__name__}:{hash(value)}"
    return repr(number) if math.isfinite(number) else value


def _source(source: MediaSource) -> list[str]:
    if source.stream is None:
        return [source.kind, source.value]
    digest = hashlib.sha256()
    position = source.stream.tell()
    while chunk := source.stream.read(1024 * 1024):
        digest.update(chunk)
    source.stream.seek(position)
    return [source.kind, digest.hexdigest()]


class IdempotencyStore:
    """The ``idempotency_keys`` table."""

    def __init__(self, engine: AsyncEngine, *, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.engine = engine
        self.ttl_seconds = ttl_seconds

    async def lookup(self, claim: IdempotencyClaim) -> str | None:
        """The video id an earlier request made under this key, if one did (and it has not expired).

        ``IdempotencyConflict`` when that request had a different body.
        """
        query = select(IdempotencyRow.video_id, IdempotencyRow.fingerprint).where(
            IdempotencyRow.scope == claim.scope,
            IdempotencyRow.key == claim.key,
            IdempotencyRow.expires_at >= time.time(),
        )
        async with self.engine.connect() as connection:
            found = (await connection.execute(query)).one_or_none()
        if found is None:
            return None
        video_id, stored = found
        if stored != claim.fingerprint:
            raise IdempotencyConflict(
                f"{HEADER} {claim.key!r} was already used with a different request body (for video "
                f"{video_id}); use a new key for a new request",
                param=HEADER,
            )
        return str(video_id)

    def record(self, connection: Connection, claim: IdempotencyClaim, video_id: str) -> None:
        """Inside the video's insert transaction. ``DuplicateKey`` if another request holds the key."""
        now = time.time()
        connection.execute(
            delete(IdempotencyRow).where(
                IdempotencyRow.scope == claim.scope, IdempotencyRow.key == claim.key, IdempotencyRow.expires_at < now
            )
        )
        try:
            connection.execute(
                insert(IdempotencyRow).values(
                    scope=claim.scope,
                    key=claim.key,
                    fingerprint=claim.fingerprint,
                    video_id=video_id,
                    created_at=now,
                    expires_at=now + self.ttl_seconds,
                )
            )
        except IntegrityError as error:
            raise DuplicateKey(claim.key) from error

    async def purge_expired(self) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(delete(IdempotencyRow).where(IdempotencyRow.expires_at < time.time()))
            return int(result.rowcount)
