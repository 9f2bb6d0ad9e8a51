"""The relay's schedule: each job's stage and when it is next due (issue 11).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        # Rows from before the relay start at "submit": a run with a stored upstream id is polled,
        # not submitted again, so an in-flight job survives the upgrade.
        batch.add_column(sa.Column("stage", sa.String(16), nullable=False, server_default="submit"))
        batch.add_column(sa.Column("due_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("status_detail", sa.Text(), nullable=True))
    op.create_index("ix_videos_stage_due", "videos", ["stage", "due_at"])
    op.create_index("ix_videos_stage_provider", "videos", ["stage", "provider"])


def downgrade() -> None:
    op.drop_index("ix_videos_stage_provider", table_name="videos")
    op.drop_index("ix_videos_stage_due", table_name="videos")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("status_detail")
        batch.drop_column("due_at")
        batch.drop_column("stage")
