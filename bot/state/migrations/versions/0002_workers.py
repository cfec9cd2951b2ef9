"""Indexing workers apart from chat processes (`kbot run --role worker|chat`).

Jobs record which process runs them and whether it reports to the chat itself: a worker may not
reach the platform, so chat processes relay its progress (`shown` is the last step one of them
showed) and send its completion. Uploads are kept in the database (`job_uploads`), so a worker on
another machine can read them.

Revision ID: 0002_workers
Revises: 0001_baseline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_workers"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("runner", sa.String(length=128), nullable=True))
        jobs.add_column(sa.Column("runner_reports", sa.Boolean(), nullable=False, server_default=sa.true()))
        jobs.add_column(sa.Column("shown", sa.String(length=64), nullable=True))
    op.create_table("job_uploads",
                    sa.Column("job_id", sa.Integer(), nullable=False),
                    sa.Column("data", sa.LargeBinary(), nullable=False),
                    sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
                    sa.PrimaryKeyConstraint("job_id"))


def downgrade() -> None:
    op.drop_table("job_uploads")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("shown")
        jobs.drop_column("runner_reports")
        jobs.drop_column("runner")
