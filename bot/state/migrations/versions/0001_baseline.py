"""The schema kbot had before migrations, adopted in place.

Databases made before Alembic have some or all of these tables, and older ones lack a few nullable
columns; this revision creates only what is missing, so an old database and a new one both end here
with their rows untouched.

Revision ID: 0001_baseline
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

# Columns added in place by kbot before migrations existed (all nullable).
_LATE_COLUMNS = [("turns", "reply_id", sa.String(length=32)), ("channel_scopes", "preset", sa.String(length=16)),
                 ("jobs", "warnings", sa.Text()), ("channel_scopes", "visibility", sa.String(length=16))]


def _access_grants() -> None:
    op.create_table('access_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=128), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('approved_by', sa.String(length=128), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform', 'workspace')
    )


def _channel_scopes() -> None:
    op.create_table('channel_scopes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=128), nullable=False),
        sa.Column('channel', sa.String(length=128), nullable=False),
        sa.Column('use_global', sa.Boolean(), nullable=False),
        sa.Column('use_workspace', sa.Boolean(), nullable=False),
        sa.Column('preset', sa.String(length=16), nullable=True),
        sa.Column('visibility', sa.String(length=16), nullable=True),
        sa.Column('changed_by', sa.String(length=128), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform', 'workspace', 'channel')
    )


def _deliveries() -> None:
    op.create_table('deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('event_key', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform', 'event_key')
    )
    op.create_index(op.f('ix_deliveries_created_at'), 'deliveries', ['created_at'], unique=False)


def _feedback() -> None:
    op.create_table('feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reply_id', sa.String(length=32), nullable=False),
        sa.Column('user', sa.String(length=128), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reply_id', 'user')
    )
    op.create_index(op.f('ix_feedback_reply_id'), 'feedback', ['reply_id'], unique=False)


def _gaps() -> None:
    op.create_table('gaps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=128), nullable=False),
        sa.Column('channel', sa.String(length=128), nullable=False),
        sa.Column('reply_id', sa.String(length=32), nullable=True),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('nothing_found', sa.Boolean(), nullable=False),
        sa.Column('weak', sa.Boolean(), nullable=False),
        sa.Column('thumbs_down', sa.Boolean(), nullable=False),
        sa.Column('best_similarity', sa.Double(), nullable=True),
        sa.Column('sources', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reply_id')
    )
    op.create_index(op.f('ix_gaps_created_at'), 'gaps', ['created_at'], unique=False)


def _jobs() -> None:
    op.create_table('jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=1024), nullable=False),
        sa.Column('scope', sa.String(length=255), nullable=False),
        sa.Column('uploader', sa.String(length=128), nullable=True),
        sa.Column('location', sa.Text(), nullable=False),
        sa.Column('target', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('warnings', sa.Text(), nullable=True),
        sa.Column('notified', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_jobs_state'), 'jobs', ['state'], unique=False)


def _pairing_requests() -> None:
    op.create_table('pairing_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=128), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('requested_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('platform', 'workspace')
    )


def _rate_counters() -> None:
    op.create_table('rate_counters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('window_start', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key', 'window_start')
    )
    op.create_index(op.f('ix_rate_counters_window_start'), 'rate_counters', ['window_start'], unique=False)


def _threads() -> None:
    op.create_table('threads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('workspace', sa.String(length=128), nullable=False),
        sa.Column('channel', sa.String(length=128), nullable=False),
        sa.Column('thread', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform', 'workspace', 'channel', 'thread')
    )


def _turns() -> None:
    op.create_table('turns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('sources', sa.JSON(), nullable=False),
        sa.Column('mode', sa.String(length=32), nullable=False),
        sa.Column('author', sa.String(length=128), nullable=False),
        sa.Column('reply_id', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_turns_reply_id'), 'turns', ['reply_id'], unique=False)
    op.create_index(op.f('ix_turns_thread_id'), 'turns', ['thread_id'], unique=False)



_TABLES = [
    ("access_grants", _access_grants),
    ("channel_scopes", _channel_scopes),
    ("deliveries", _deliveries),
    ("feedback", _feedback),
    ("gaps", _gaps),
    ("jobs", _jobs),
    ("pairing_requests", _pairing_requests),
    ("rate_counters", _rate_counters),
    ("threads", _threads),
    ("turns", _turns),
]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, create in _TABLES:
        if name not in existing:
            create()
    for table, column, kind in _LATE_COLUMNS:
        if table in existing and column not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column(column, kind, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(_TABLES):
        op.drop_table(name)
