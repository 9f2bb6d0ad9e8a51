"""The ledger's table: one row per job, created with the job (a hold) and ended once (settled or released).

Owned by ``billing.ledger``; nothing else writes it. Kept after the job's row is purged, so spend and
refunds stay visible (``GET /v1/usage``) past output retention.
"""

from __future__ import annotations

import enum

from sqlalchemy import Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelay.database import Base


class EntryState(enum.StrEnum):
    HELD = "held"  # the estimate is reserved against the key's budget
    SETTLED = "settled"  # charged: ``charged_usd`` is what the job cost
    RELEASED = "released"  # refunded in full: the job cost nothing


class LedgerRow(Base):
    __tablename__ = "billing_ledger"

    video_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))  # the API key id; "" for the single local owner
    model: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))  # UTC day of the hold, YYYY-MM-DD
    state: Mapped[str] = mapped_column(String(16))
    held_usd: Mapped[float] = mapped_column(Float)
    charged_usd: Mapped[float] = mapped_column(Float, default=0.0)
    basis: Mapped[str] = mapped_column(String(16), default="")  # reported | computed | mixed | hold | none
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_billing_ledger_scope_day", "scope", "day"),
        Index("ix_billing_ledger_state", "state"),
    )
