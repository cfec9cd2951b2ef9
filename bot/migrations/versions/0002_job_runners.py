"""Jobs record which process runs them and whether it reports to the chat itself.

With `kbot run --role worker` the process that indexes may not reach the platform: chat processes
then relay its progress (`shown` is the last step one of them showed) and send its completion.

Revision ID: 0002_job_runners
Revises: 0001_baseline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_job_runners"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("runner", sa.String(length=128), nullable=True))
        jobs.add_column(sa.Column("runner_reports", sa.Boolean(), nullable=False, server_default=sa.true()))
        jobs.add_column(sa.Column("shown", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("shown")
        jobs.drop_column("runner_reports")
        jobs.drop_column("runner")
