"""The database schema's version, and upgrading it with Alembic under a lock.

Several processes may start together on one new database (`kbot run --role chat` and `--role worker`
side by side). Each takes the migration lock first (a PostgreSQL advisory lock, a lock file beside a
SQLite database), looks at the version again, and only then creates or upgrades: the second one
finds the work done. A database already at the head costs one small query and no Alembic import.
"""

# Imports inside functions: Alembic loads only when the schema has to move.

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock
from sqlalchemy import Column, MetaData, String, Table, inspect, select
from sqlalchemy.engine import Connection, Engine

from bot.state.db import Base

# Every revision under bot/state/migrations/versions, oldest first (tests/test_schema.py checks the list).
REVISIONS = ("0001_baseline", "0002_workers", "0003_reused_vectors", "0004_private_places")
HEAD = REVISIONS[-1]
MIGRATIONS = Path(__file__).with_name("migrations")
_ADVISORY_KEY = 0x6B626F74  # "kbot": one lock number for every kbot database on a server

_version_table = Table("alembic_version", MetaData(),
                       Column("version_num", String(32), primary_key=True, nullable=False))

SchemaPolicy = Literal["upgrade", "require", "leave"]


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this kbot uses; the message says what to run."""


def revision(connection: Connection) -> str | None:
    """The database's schema revision; None for a new database or one made before migrations."""
    if not inspect(connection).has_table(_version_table.name):
        return None
    return connection.execute(select(_version_table.c.version_num)).scalar()


def _is_empty(connection: Connection) -> bool:
    return not inspect(connection).has_table("threads")


def _check_known(current: str | None) -> None:
    if current is not None and current not in REVISIONS:
        raise SchemaMismatch(f"the database was upgraded by a newer kbot (schema {current}; this one knows up to "
                             f"{HEAD}): run that version, or restore a backup taken before the upgrade")


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other kbot process is migrating beside."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_KEY})")  # freed at commit
            yield connection
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    with contextlib.ExitStack() as stack:
        if database and database != ":memory:" and not database.startswith("file:"):
            stack.enter_context(FileLock(f"{database}.migrate-lock"))
        yield stack.enter_context(engine.begin())


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to HEAD; returns (before, after). A new database gets today's tables at once;
    an older one (or one made before migrations) goes through each revision it lacks."""

    with migration_lock(engine) as connection:
        before = revision(connection)
        _check_known(before)
        if before == HEAD:
            return before, HEAD
        if before is None and _is_empty(connection):
            Base.metadata.create_all(connection)
            _version_table.create(connection)
            connection.execute(_version_table.insert().values(version_num=HEAD))
            return None, HEAD
        from alembic import command

        command.upgrade(alembic_config(connection), "head")
    return before, HEAD


def alembic_config(connection: Connection | None = None) -> Any:
    """Alembic's configuration for kbot's migrations, with the connection env.py migrates through."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def ensure(engine: Engine, policy: SchemaPolicy) -> None:
    """`upgrade`: migrate when behind; `require`: refuse a database that is behind (database.auto_migrate
    off: the operator runs `kbot migrate`); `leave`: touch nothing."""
    if policy == "leave":
        return
    with engine.connect() as connection:
        current = revision(connection)
    _check_known(current)
    if current == HEAD:
        return
    if policy == "require":
        raise SchemaMismatch(f"the database schema is {current or 'not created yet'} and this kbot needs {HEAD}: "
                             "run `kbot migrate` (database.auto_migrate is off)")
    upgrade(engine)
