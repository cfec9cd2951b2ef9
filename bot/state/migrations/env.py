"""Alembic's entry point: kbot hands it an open connection (under the migration lock), never a URL."""

from __future__ import annotations

from alembic import context

from bot.state.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
