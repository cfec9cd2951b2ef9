"""The state layer's one error, apart from SQLAlchemy so that callers can catch it without importing
the database (the knowledge store's folder raises it too)."""

from __future__ import annotations


class DatabaseUnavailable(Exception):
    """The database cannot be opened or written; one line that names it and says what to do."""
