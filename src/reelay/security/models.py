"""Database rows for access control, idempotency and webhooks (created by migration 0002).

They live on the same ``Base`` as ``VideoRow`` so ``Base.metadata`` describes the whole database.
Only the modules that own a table touch its row class: ``security.keys`` (``api_keys``),
``security.ratelimit`` (``api_rate_windows``), ``jobs.idempotency`` (``idempotency_keys``),
``security.webhooks`` and ``jobs.webhook_delivery`` (``webhook_secrets``, ``video_webhooks``,
``webhook_deliveries``). Everything here is portable SQL: SQLite today, PostgreSQL in scale-out.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reelay.database import Base

ANONYMOUS_SCOPE = ""
"""The scope of the single local owner (``owner=None``, no keys configured) in non-null key columns."""


def scope_of(owner: str | None) -> str:
    """A non-null stand-in for ``owner``: SQL unique constraints treat NULLs as all different."""
    return owner if owner is not None else ANONYMOUS_SCOPE


class ApiKeyRow(Base):
    """One API key. Only the SHA-256 of its secret is stored; the secret is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    rpm: Mapped[int | None] = mapped_column(Integer)
    max_concurrent: Mapped[int | None] = mapped_column(Integer)
    budget_usd: Mapped[float | None] = mapped_column(Float)
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)


class RateWindowRow(Base):
    """Requests a key made in one fixed one-minute window (``window`` = unix minute)."""

    __tablename__ = "api_rate_windows"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyRow(Base):
    """``Idempotency-Key`` → the video it created. Inserted in the same transaction as the video row."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(256))
    fingerprint: Mapped[str] = mapped_column(String(64))
    video_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),
        Index("ix_idempotency_expires_at", "expires_at"),
    )


class WebhookSecretRow(Base):
    """The ``whsec_…`` signing secret of one scope (an API key, or the server for ``owner=None``)."""

    __tablename__ = "webhook_secrets"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[float] = mapped_column(Float)


class VideoWebhookRow(Base):
    """The ``webhook_url`` a video was created with (checked at submit, checked again per delivery)."""

    __tablename__ = "video_webhooks"

    video_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class WebhookDeliveryRow(Base):
    """One event to deliver: ``pending`` until a 2xx (``delivered``) or the last retry (``failed``)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # msg_<hex>, the webhook-id header
    video_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    lease_expires_at: Mapped[float | None] = mapped_column(Float)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    delivered_at: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("video_id", "event_type", name="uq_webhook_delivery_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
