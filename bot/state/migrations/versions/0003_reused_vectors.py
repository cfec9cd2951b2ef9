"""How many of a done job's chunks kept the vectors of the document's previous version, so the
completion notice can say why an edited document indexed in a second.

Revision ID: 0003_reused_vectors
Revises: 0002_workers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reused_vectors"
down_revision = "0002_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("reused", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("reused")
