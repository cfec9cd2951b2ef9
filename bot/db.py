"""SQLAlchemy models and the engine: SQLite under data_dir by default, any URL (PostgreSQL) by config."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    false,
    make_url,
    true,
)
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if TYPE_CHECKING:
    from bot.schema import SchemaPolicy


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


class ThreadRow(Base):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel", "thread"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(128))
    thread: Mapped[str] = mapped_column(String(255))
    # In a place only some can see (a private channel or thread, a DM): its questions stay there.
    private: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class TurnRow(Base):
    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)  # what retrieval was asked, after follow-up rewriting
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(128))
    reply_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)  # feedback key
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class DeliveryRow(Base):
    """One row per platform event handled: the unique key makes duplicate deliveries lose the race."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("platform", "event_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class FeedbackRow(Base):
    """A 👍/👎 on an answer; one vote per person per answer, the latest click wins."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("reply_id", "user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reply_id: Mapped[str] = mapped_column(String(32), index=True)
    user: Mapped[str] = mapped_column(String(128))
    value: Mapped[int] = mapped_column(Integer)  # +1 or -1
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class JobRow(Base):
    """One indexing job; this row, not any process's memory, is the truth about it."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # file | url
    source: Mapped[str] = mapped_column(String(1024))  # the document's name in the knowledge base
    scope: Mapped[str] = mapped_column(String(255))
    uploader: Mapped[str | None] = mapped_column(String(128), nullable=True)
    location: Mapped[str] = mapped_column(Text)  # the stored upload's path, or the URL
    target: Mapped[dict] = mapped_column(JSON, default=dict)  # where progress is reported (adapter-defined)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    reused: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # chunks that kept earlier vectors
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    warnings: Mapped[str | None] = mapped_column(Text, nullable=True)  # a done job's notes (pages OCR couldn't read)
    notified: Mapped[bool] = mapped_column(default=False)  # the completion message was sent (once)
    runner: Mapped[str | None] = mapped_column(String(128), nullable=True)  # host:pid of the process running it
    # False: the runner cannot reach the platform (`--role worker`); chat processes relay and notify
    runner_reports: Mapped[bool] = mapped_column(default=True, server_default=true())
    shown: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the step a relay last showed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JobUploadRow(Base):
    """A queued upload's bytes, in the database so that a worker on any machine can index it."""

    __tablename__ = "job_uploads"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ChannelScopeRow(Base):
    """An admin's choice of which shared knowledge one channel answers from (absent: all of it)."""

    __tablename__ = "channel_scopes"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(128))
    use_global: Mapped[bool] = mapped_column(default=True)
    use_workspace: Mapped[bool] = mapped_column(default=True)
    preset: Mapped[str | None] = mapped_column(String(16), nullable=True)  # `/kb preset`; None: the configured one
    visibility: Mapped[str | None] = mapped_column(String(16), nullable=True)  # `/kb visibility`; None: configured
    changed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RateCounterRow(Base):
    """Events counted per key and fixed window; two neighbouring windows estimate a sliding one."""

    __tablename__ = "rate_counters"
    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    window_start: Mapped[int] = mapped_column(Integer, index=True)  # epoch seconds, a multiple of the window
    count: Mapped[int] = mapped_column(Integer, default=0)


class AccessGrantRow(Base):
    """A place (Slack workspace, Discord server or DM, Telegram chat) an admin approved."""

    __tablename__ = "access_grants"
    __table_args__ = (UniqueConstraint("platform", "workspace"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255), default="")
    approved_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PairingRequestRow(Base):
    """An unapproved place asked for kbot; the code is what an admin approves."""

    __tablename__ = "pairing_requests"
    __table_args__ = (UniqueConstraint("platform", "workspace"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255), default="")
    requested_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class GapRow(Base):
    """A question the knowledge base answered badly or not at all (coverage-gap analytics).

    The text is stored redacted (bot/redaction.py); `thumbs_down` is set when someone votes 👎."""

    __tablename__ = "gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(128))
    reply_id: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    question: Mapped[str] = mapped_column(Text)
    nothing_found: Mapped[bool] = mapped_column(default=False)
    weak: Mapped[bool] = mapped_column(default=False)  # the best source was below analytics.weak_similarity
    thumbs_down: Mapped[bool] = mapped_column(default=False)
    best_similarity: Mapped[float | None] = mapped_column(nullable=True)
    sources: Mapped[list] = mapped_column(JSON, default=list)  # the labels of the sources the answer cited
    private: Mapped[bool] = mapped_column(default=False, server_default=false())  # asked in a private place
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class DatabaseUnavailable(Exception):
    """The database cannot be opened or written; one line that names it and says what to do."""


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


def private_folder(path: Path) -> Path:
    """A folder of kbot's own, created readable by kbot's user alone (0700, whatever the umask):
    data_dir holds the questions people asked, their uploads and the knowledge base."""
    if not path.is_dir():
        try:
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot create the data folder {path} ({exc.strerror or exc}): set data_dir "
                                      "to a writable folder") from None
    return path


def private_file(path: Path) -> None:
    """Readable and writable by kbot's user alone (0600), whatever the umask it was created under."""
    with contextlib.suppress(OSError):  # not ours to change (another user's file): left as it is
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def readable_by_others(path: Path) -> bool:
    """Whether users other than kbot's can read or enter this folder (group or world bits set)."""
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False


def check_writable(engine: Engine) -> None:
    """A write that changes nothing: a read-only file, disk or standby fails here, not mid-answer."""
    with engine.connect() as connection:
        connection.execute(delete(DeliveryRow).where(false()))
        connection.rollback()


def make_engine(url: str | None, data_dir: Path, schema: SchemaPolicy = "upgrade") -> Engine:
    """The configured database, or SQLite in data_dir, its schema brought to this kbot's (bot/schema.py;
    `schema="require"` refuses an old one instead, `"leave"` is for `kbot migrate` itself).

    Raises DatabaseUnavailable (one line, naming the file or URL) when it cannot be opened and written.
    """
    if url is None:
        private_folder(data_dir)
        url = f"sqlite:///{data_dir / 'kbot.db'}"
    try:
        # An unreachable server fails within seconds instead of hanging start-up or an answer.
        connect_args = {"connect_timeout": 10} if make_url(url).get_backend_name() == "postgresql" else {}
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(f"database.url is not a usable SQLAlchemy URL ({exc.__class__.__name__}): "
                                  "e.g. postgresql+psycopg://user:password@host/kbot") from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers and one writer from several processes
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
            # WAL's own recommendation: commits skip an fsync (half the cost of every write); a crash of
            # kbot loses nothing, a power cut may lose the last commits, and never corrupts the file.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        from bot.sqlite_turns import take_turns

        take_turns(engine)  # this process's answers queue on a lock, not in SQLite's sleeping busy handler

    from bot.schema import SchemaMismatch, ensure

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
