"""The billing ledger: one hold per job, settled or released once.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_ledger",
        sa.Column("video_id", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("held_usd", sa.Float(), nullable=False),
        sa.Column("charged_usd", sa.Float(), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_billing_ledger_scope_day", "billing_ledger", ["scope", "day"])
    op.create_index("ix_billing_ledger_state", "billing_ledger", ["state"])


def downgrade() -> None:
    op.drop_index("ix_billing_ledger_state", table_name="billing_ledger")
    op.drop_index("ix_billing_ledger_scope_day", table_name="billing_ledger")
    op.drop_table("billing_ledger")
