"""API keys: create, list, revoke, verify. Only hashes are stored; the full key is shown once.

A key reads ``rly_<id>.<secret>``: ``id`` (16 hex characters) is public, names the key in listings,
and is the ``owner`` of the videos the key creates; ``secret`` is 256 random bits. The database keeps
SHA-256(secret), which is enough for a secret of that entropy (no password hashing needed), and
verification compares digests in constant time.

Authentication is on as soon as ONE key row exists, revoked or not: revoking every key locks the API
rather than silently opening it again. With no rows at all, everyone is the single local owner.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from reelay.errors import AuthenticationFailed, InvalidRequest, NotFound
from reelay.security.models import ApiKeyRow

PREFIX = "rly_"
_ID_HEX = 16
NO_KEYS_RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class KeyLimits:
    """Per-key limits; ``None`` means the server default (``REELAY_DEFAULT_*``), which may be unlimited."""

    rpm: int | None = None
    max_concurrent: int | None = None
    budget_usd: float | None = None


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    admin: bool
    limits: KeyLimits
    spent_usd: float
    created_at: float
    revoked_at: float | None
    last_used_at: float | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=row.id,
            name=row.name,
            admin=row.admin,
            limits=KeyLimits(rpm=row.rpm, max_concurrent=row.max_concurrent, budget_usd=row.budget_usd),
            spent_usd=row.spent_usd,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """``rly_<id>.<secret>`` → (id, secret), or None when the token does not have that shape."""
    if not token.startswith(PREFIX):
        return None
    key_id, dot, secret = token[len(PREFIX) :].partition(".")
    if not dot or len(key_id) != _ID_HEX or not secret or len(secret) > 128:
        return None
    if any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id, secret


def validate_limits(limits: KeyLimits) -> None:
    """Refuse nonsense limits at creation instead of discovering them at the first request."""
    if limits.rpm is not None and limits.rpm < 1:
        raise InvalidRequest("rpm must be at least 1 (leave it out for the server default)", param="rpm")
    if limits.max_concurrent is not None and limits.max_concurrent < 1:
        raise InvalidRequest("max_concurrent must be at least 1", param="max_concurrent")
    if limits.budget_usd is not None and not 0 <= limits.budget_usd < 1e12:
        raise InvalidRequest("budget_usd must be a non-negative number of dollars", param="budget_usd")


class KeyStore:
    """The ``api_keys`` table. Used by the API (every request) and by ``reelay keys`` (the CLI)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._keys_exist = False  # once true, always true: key rows are never deleted
        self._recheck_at = 0.0

    async def create(
        self, *, name: str = "", admin: bool = False, limits: KeyLimits | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its full token. The token is not stored anywhere; show it once."""
        limits = limits or KeyLimits()
        validate_limits(limits)
        key_id = secrets.token_hex(_ID_HEX // 2)
        secret = secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=key_id,
            name=name[:200],
            secret_hash=hash_secret(secret),
            admin=admin,
            rpm=limits.rpm,
            max_concurrent=limits.max_concurrent,
            budget_usd=limits.budget_usd,
            spent_usd=0.0,
            created_at=time.time(),
        )
        async with self._sessions.begin() as session:
            session.add(row)
        self._keys_exist = True
        return ApiKey.from_row(row), f"{PREFIX}{key_id}.{secret}"

    async def list(self) -> list[ApiKey]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at.asc()))).all()
        return [ApiKey.from_row(row) for row in rows]

    async def get(self, key_id: str) -> ApiKey | None:
        async with self._sessions() as session:
            row = await session.get(ApiKeyRow, key_id)
        return ApiKey.from_row(row) if row is not None else None

    async def revoke(self, key_id: str) -> ApiKey:
        """Revoke at once: the next request with this key answers 401. Revoking twice is harmless."""
        async with self._sessions.begin() as session:
            row = await session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no API key with id {key_id!r}; `reelay keys list` shows the ids", param="id")
            row.revoked_at = row.revoked_at or time.time()
            return ApiKey.from_row(row)

    async def any_configured(self) -> bool:
        """Whether authentication is on (a key row exists).

        A yes is cached for good (rows are never deleted); a no for ``NO_KEYS_RECHECK_SECONDS``, so
        the embedded default does not pay a query per request, and a first key created by another
        process (``reelay keys create`` next to a running server) takes effect within that time.
        """
        if not self._keys_exist and time.monotonic() >= self._recheck_at:
            async with self._sessions() as session:
                self._keys_exist = (await session.scalar(select(ApiKeyRow.id).limit(1))) is not None
            self._recheck_at = time.monotonic() + NO_KEYS_RECHECK_SECONDS
        return self._keys_exist

    async def verify(self, token: str) -> ApiKey:
        """The key a bearer token belongs to; ``AuthenticationFailed`` if unknown, wrong or revoked."""
        parts = split_token(token)
        if parts is None:
            raise AuthenticationFailed(
                "the API key is malformed; Reelay keys look like rly_<id>.<secret> (create one with "
                "`reelay keys create`)"
            )
        key_id, secret = parts
        async with self._sessions() as session:
            row = await session.get(ApiKeyRow, key_id)
        # Compare even when the id is unknown, so timing does not tell which ids exist.
        expected = row.secret_hash if row is not None else hash_secret(secrets.token_urlsafe(32))
        if not hmac.compare_digest(expected, hash_secret(secret)) or row is None:
            raise AuthenticationFailed("the API key is not valid; check it or create a new one")
        if row.revoked_at is not None:
            raise AuthenticationFailed(f"the API key {key_id} was revoked; ask an admin for a new key")
        return ApiKey.from_row(row)

    async def touch(self, key_id: str) -> None:
        """Record use (shown by ``reelay keys list``); at most one write per key per minute."""
        now = time.time()
        statement = (
            update(ApiKeyRow)
            .where(ApiKeyRow.id == key_id)
            .where((ApiKeyRow.last_used_at.is_(None)) | (ApiKeyRow.last_used_at < now - 60))
            .values(last_used_at=now)
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
