"""Whether a thread, and a coverage gap, came from a private place (a private channel, a private
thread, a DM): its questions are shown only there (and to kbot admins at the CLI), and counted
elsewhere.

Revision ID: 0004_private_places
Revises: 0003_reused_vectors
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_private_places"
down_revision = "0003_reused_vectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes one with a constant default): a batch copy of `threads` would
    # drop a table `turns` points at.
    for table in ("threads", "gaps"):
        op.add_column(table, sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in ("threads", "gaps"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("private")
