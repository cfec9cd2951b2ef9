"""Coverage-gap analytics: which questions the knowledge base could not answer well, and the figures
around them. Rows live in the database (every process records into the same table), question text
only after redaction, and for `analytics.keep_days`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import SQLColumnExpression, delete, false, func, or_, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.core.messages import Answer, ThreadKey
from bot.core.redaction import redact as default_redact
from bot.state.db import FeedbackRow, GapRow, ThreadRow, TurnRow, rows_changed


@dataclass(frozen=True)
class Area:
    """Where figures are taken from: one channel, a whole workspace (channel None), or everywhere."""

    platform: str | None = None
    workspace: str | None = None
    channel: str | None = None
    # Where the figures are shown: a private place's questions appear only there. None: at the CLI,
    # to kbot's operators, who see every place.
    shown_in: str | None = None

    def describe(self) -> str:
        if self.platform is None:
            return "every place"
        if self.channel is None:
            return {"discord": "this server", "telegram": "this chat"}.get(self.platform, "this workspace")
        return "this channel"


EVERYWHERE = Area()


@dataclass(frozen=True)
class Gap:
    question: str  # redacted
    asked_at: datetime
    nothing_found: bool
    weak: bool
    thumbs_down: bool
    sources: tuple[str, ...]
    place: str  # platform:workspace:channel


@dataclass(frozen=True)
class Figures:
    """One period's activity in an area."""

    days: float
    questions: int
    answered: int  # questions that got an answer with sources
    thumbs_up: int
    thumbs_down: int

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.questions if self.questions else None


def _since(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def _in_area(area: Area, platform: SQLColumnExpression[str], workspace: SQLColumnExpression[str],
             channel: SQLColumnExpression[str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if area.platform is not None:
        conditions.append(platform == area.platform)
    if area.workspace is not None:
        conditions.append(workspace == area.workspace)
    if area.channel is not None:
        conditions.append(channel == area.channel)
    return conditions


class GapLog:
    """Records gaps as answers and votes happen; reads them back for `/kb gaps`, `/kb stats`, `kbot gaps`."""

    def __init__(self, engine: Engine, *, enabled: bool = True, weak_similarity: float = 0.4,
                 keep_days: float = 90, redact: Callable[[str], str] = default_redact) -> None:
        self.engine = engine
        self.redact = redact
        self.enabled = enabled
        self.weak_similarity = weak_similarity  # an answer whose best source is less similar than this is weak
        self.keep_days = keep_days

    def is_gap(self, answer: Answer) -> tuple[bool, bool]:
        """(nothing found, weak best source) for a delivered answer."""
        if not answer.grounded:
            return True, False
        best = answer.best_similarity
        return False, best is not None and best < self.weak_similarity

    def record_answer(self, key: ThreadKey, question: str, answer: Answer, private: bool = False) -> bool:
        """Store the question if the answer was a gap; True when it was. Blocking: database."""
        nothing_found, weak = self.is_gap(answer)
        if not self.enabled or not (nothing_found or weak):
            return False
        row = GapRow(platform=key.platform, workspace=key.workspace, channel=key.channel,
                     reply_id=answer.reply_id or None, question=self.redact(question), nothing_found=nothing_found,
                     weak=weak, best_similarity=answer.best_similarity, private=private,
                     sources=[s.label() for s in answer.sources][:5])
        with Session(self.engine) as session, session.begin():
            session.add(row)
        return True

    def record_vote(self, reply_id: str) -> None:
        """After a vote on `reply_id`: the answer is a gap while anyone's latest vote on it is 👎."""
        if not self.enabled:
            return
        with Session(self.engine) as session, session.begin():
            down = session.scalar(select(func.count()).select_from(FeedbackRow).where(
                FeedbackRow.reply_id == reply_id, FeedbackRow.value < 0)) or 0
            row = session.scalar(select(GapRow).where(GapRow.reply_id == reply_id))
            if row is not None:
                row.thumbs_down = down > 0
                return
            if not down:
                return
            turn = session.execute(
                select(TurnRow.question, TurnRow.sources, ThreadRow.platform, ThreadRow.workspace, ThreadRow.channel,
                       ThreadRow.private)
                .join(ThreadRow, ThreadRow.id == TurnRow.thread_id).where(TurnRow.reply_id == reply_id)
            ).first()
            if turn is None:
                return
            try:
                with session.begin_nested():
                    session.add(GapRow(platform=turn.platform, workspace=turn.workspace, channel=turn.channel,
                                       reply_id=reply_id, question=self.redact(turn.question), thumbs_down=True,
                                       private=turn.private,
                                       sources=[str(s.get("label") or s.get("source")) for s in turn.sources or []
                                                if isinstance(s, dict)][:5]))
            except IntegrityError:  # another process recorded the same vote's gap first
                pass

    def gaps(self, area: Area, days: float, limit: int = 2000) -> list[Gap]:
        """The most recent gaps in `area` over the last `days` (answers later voted 👍 only are left out);
        a private place's only where they are shown in it (`Area.shown_in`), or at the CLI."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(GapRow).where(GapRow.created_at >= _since(days), _visible(area),
                                     *_in_area(area, GapRow.platform, GapRow.workspace, GapRow.channel))
                .order_by(GapRow.created_at.desc()).limit(limit)
            ).all()
            return [Gap(r.question, _aware(r.created_at), r.nothing_found, r.weak, r.thumbs_down,
                        tuple(r.sources or ()), f"{r.platform}:{r.workspace}:{r.channel}")
                    for r in rows if r.nothing_found or r.weak or r.thumbs_down]

    def private_elsewhere(self, area: Area, days: float) -> int:
        """Gaps in `area` asked in private places other than the one the report is shown in: counted, not listed."""
        if area.shown_in is None:
            return 0
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(GapRow).where(
                GapRow.created_at >= _since(days), ~_visible(area),
                *_in_area(area, GapRow.platform, GapRow.workspace, GapRow.channel))) or 0

    def figures(self, area: Area, days: float) -> Figures:
        """Questions, answered share and votes in `area` over the last `days` (from thread memory)."""
        since = _since(days)
        place = _in_area(area, ThreadRow.platform, ThreadRow.workspace, ThreadRow.channel)
        with Session(self.engine) as session:
            turns = session.execute(
                select(TurnRow.sources).join(ThreadRow, ThreadRow.id == TurnRow.thread_id)
                .where(TurnRow.created_at >= since, *place)
            ).all()
            votes = dict(session.execute(
                select(FeedbackRow.value, func.count()).join(TurnRow, TurnRow.reply_id == FeedbackRow.reply_id)
                .join(ThreadRow, ThreadRow.id == TurnRow.thread_id)
                .where(FeedbackRow.created_at >= since, *place).group_by(FeedbackRow.value)
            ).all())
        answered = sum(1 for (sources,) in turns if sources)
        return Figures(days, len(turns), answered, votes.get(1, 0), votes.get(-1, 0))

    def daily(self, area: Area, days: int) -> list[tuple[datetime, Figures]]:
        """`figures` per day for the last `days` days, oldest first (for the digest's chart)."""
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        place = _in_area(area, ThreadRow.platform, ThreadRow.workspace, ThreadRow.channel)
        start = today - timedelta(days=days - 1)
        with Session(self.engine) as session:
            turns = session.execute(
                select(TurnRow.created_at, TurnRow.sources).join(ThreadRow, ThreadRow.id == TurnRow.thread_id)
                .where(TurnRow.created_at >= start, *place)
            ).all()
            votes = session.execute(
                select(FeedbackRow.created_at, FeedbackRow.value)
                .join(TurnRow, TurnRow.reply_id == FeedbackRow.reply_id)
                .join(ThreadRow, ThreadRow.id == TurnRow.thread_id).where(FeedbackRow.created_at >= start, *place)
            ).all()
        counts = {start + timedelta(days=i): [0, 0, 0, 0] for i in range(days)}
        for created, sources in turns:
            day = counts.get(_day(created))
            if day is not None:
                day[0] += 1
                day[1] += 1 if sources else 0
        for created, value in votes:
            day = counts.get(_day(created))
            if day is not None:
                day[2 if value > 0 else 3] += 1
        return [(day, Figures(1, *values)) for day, values in counts.items()]

    def forget_older_than_keep_days(self) -> int:
        with Session(self.engine) as session, session.begin():
            removed = session.execute(delete(GapRow).where(GapRow.created_at < _since(self.keep_days)))
            return rows_changed(removed)


def _visible(area: Area) -> ColumnElement[bool]:
    if area.shown_in is None:
        return true()
    return or_(GapRow.private == false(), GapRow.channel == area.shown_in)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> datetime:
    return _aware(moment).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
