"""The SQLAlchemy models: every table kbot keeps (bot/state/engine.py opens the database, and
bot/state/migrations/ changes its schema)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
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
    target: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # where progress is reported (adapter-defined)
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

    The text is stored redacted (bot/core/redaction.py); `thumbs_down` is set when someone votes 👎."""

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
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)  # the labels of the sources the answer cited
    private: Mapped[bool] = mapped_column(default=False, server_default=false())  # asked in a private place
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (SQLAlchemy types `Session.execute` as a plain Result)."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)
