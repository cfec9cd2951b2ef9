"""The database engine: SQLite under data_dir by default, any URL (PostgreSQL) by config; its schema
brought up to date, and every failure to use it one line that names it."""

# Imports inside functions: the SQLite-only turn table helpers load only on SQLite.

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, false, make_url
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from bot.state.db import DeliveryRow
from bot.state.errors import DatabaseUnavailable
from bot.state.files import private_file, private_folder
from bot.state.schema import SchemaMismatch, SchemaPolicy, ensure


def _url(engine_or_url: Engine | str) -> URL:
    return engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)


def where(engine_or_url: Engine | str) -> str:
    """The database as people know it: the SQLite file's path, or the URL with its password hidden."""
    parsed = _url(engine_or_url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or "(in-memory SQLite)"
    return parsed.render_as_string(hide_password=True)


def unavailable(engine_or_url: Engine | str, exc: BaseException) -> DatabaseUnavailable:
    """The one-line explanation of a database failure (the driver's own words, shortened)."""
    cause = getattr(exc, "orig", None) or exc
    detail = " ".join(str(cause).split())[:160] or cause.__class__.__name__
    if _url(engine_or_url).get_backend_name() == "sqlite":
        hint = "check that the file and its folder exist and are writable by kbot, and that the disk is not full"
    else:
        hint = "check that the server is running and reachable, and database.url in config.yaml"
    return DatabaseUnavailable(f"the database at {where(engine_or_url)} cannot be used ({detail}): {hint}")


def flush_deleted(engine: Engine) -> None:
    """After a deletion: SQLite's write-ahead log still holds the old pages until a checkpoint,
    so fold it into the database and truncate it. (PostgreSQL's own VACUUM reclaims dead rows.)"""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def check_writable(engine: Engine) -> None:
    """A write that changes nothing: a read-only file, disk or standby fails here, not mid-answer."""
    with engine.connect() as connection:
        connection.execute(delete(DeliveryRow).where(false()))
        connection.rollback()


def database_url(url: str, password: str | None = None) -> URL:
    """`database.url` with `database.password` set on it as a value: `@`, `:` or `/` need no escaping."""
    parsed = make_url(url)
    return parsed.set(password=password) if password else parsed


def make_engine(url: str | None, data_dir: Path, schema: SchemaPolicy = "upgrade",
                password: str | None = None) -> Engine:
    """The configured database, or SQLite in data_dir, its schema brought to this kbot's (bot/state/schema.py;
    `schema="require"` refuses an old one instead, `"leave"` is for `kbot migrate` itself).

    Raises DatabaseUnavailable (one line, naming the file or URL) when it cannot be opened and written.
    """
    if url is None:
        private_folder(data_dir)
        url = f"sqlite:///{data_dir / 'kbot.db'}"
    try:
        # An unreachable server fails within seconds instead of hanging start-up or an answer.
        parsed = database_url(url, password)
        connect_args = {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(f"database.url is not a usable SQLAlchemy URL ({exc.__class__.__name__}): "
                                  "e.g. postgresql+psycopg://user:password@host/kbot") from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:  # a DB-API connection (sqlite3)
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers and one writer from several processes
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
            # WAL's own recommendation: commits skip an fsync (half the cost of every write); a crash of
            # kbot loses nothing, a power cut may lose the last commits, and never corrupts the file.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        from bot.state.sqlite_turns import take_turns

        take_turns(engine)  # this process's answers queue on a lock, not in SQLite's sleeping busy handler

    try:
        ensure(engine, schema)
        if schema != "leave":
            check_writable(engine)
        if engine.dialect.name == "sqlite" and engine.url.database:
            for suffix in ("", "-wal", "-shm"):  # the questions people asked, and their uploads
                private_file(Path(engine.url.database + suffix))
    except (DBAPIError, OSError) as exc:
        engine.dispose()
        raise unavailable(engine, exc) from None
    except SchemaMismatch as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"{where(engine)}: {exc}") from None
    return engine
