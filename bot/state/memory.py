"""Thread memory: the turns of each (platform, workspace, channel, thread), trimmed to a budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.messages import ThreadKey, Turn
from bot.core.redaction import redact as default_redact
from bot.core.scopes import GLOBAL, parse_scope
from bot.state.db import FeedbackRow, ThreadRow, TurnRow
from bot.state.group_commit import GroupCommit


@dataclass(frozen=True)
class _NewTurn:
    key: ThreadKey
    fields: dict[str, Any]
    private: bool = False


MIN_SHORTENED_TURN = 200  # characters: a turn cut shorter than this says nothing useful
ELLIPSIS = " […]"


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def shorten(turn: Turn, budget: int) -> Turn:
    """The turn in at most `budget` characters: the question keeps up to half, the answer the rest."""
    question = _clip(turn.question, max(budget // 2, budget - len(turn.answer)))
    return Turn(question, _clip(turn.answer, budget - len(question)))


class ThreadMemory:
    def __init__(self, engine: Engine, budget_chars: int = 6000,
                 redact: Callable[[str], str] = default_redact) -> None:
        self.engine = engine
        self.budget_chars = budget_chars
        self.redact = redact  # what is kept of a question and its answer: personal data replaced by tags
        self._turns: GroupCommit[_NewTurn] = GroupCommit(self._write_turns, self._write_turn)

    def _thread_id(self, session: Session, key: ThreadKey, create: bool, private: bool = False) -> int | None:
        query = select(ThreadRow.id).where(
            ThreadRow.platform == key.platform, ThreadRow.workspace == key.workspace,
            ThreadRow.channel == key.channel, ThreadRow.thread == key.thread,
        )
        found = session.scalar(query)
        if found is not None or not create:
            return found
        try:
            with session.begin_nested():
                row = ThreadRow(platform=key.platform, workspace=key.workspace, channel=key.channel, thread=key.thread,
                                private=private)
                session.add(row)
            return row.id
        except IntegrityError:  # another process created it first
            return session.scalar(query)

    def knows(self, key: ThreadKey) -> bool:
        """Has kbot answered in this thread before (in any process)?"""
        with Session(self.engine) as session:
            return self._thread_id(session, key, create=False) is not None

    def history(self, key: ThreadKey) -> list[Turn]:
        """The most recent turns that fit the budget, oldest first.

        The budget holds whatever the turns' sizes: a turn that does not fit whole is shortened to
        what is left (if enough is left to be of use), and older turns are dropped.
        """
        with Session(self.engine) as session:
            thread_id = self._thread_id(session, key, create=False)
            if thread_id is None:
                return []
            rows = session.execute(
                select(TurnRow.question, TurnRow.answer).where(TurnRow.thread_id == thread_id)
                .order_by(TurnRow.id.desc()).limit(50)
            ).all()
        kept: list[Turn] = []
        left = self.budget_chars
        for question, answer in rows:
            size = len(question) + len(answer)
            if size > left:
                if left >= MIN_SHORTENED_TURN:
                    kept.append(shorten(Turn(question, answer), left))
                break
            kept.append(Turn(question, answer))
            left -= size
        return list(reversed(kept))

    def turns(self, key: ThreadKey, limit: int = 200) -> list[Turn]:
        """Every turn of the thread, whole, oldest first (for saving the thread as a document)."""
        with Session(self.engine) as session:
            thread_id = self._thread_id(session, key, create=False)
            if thread_id is None:
                return []
            rows = session.execute(select(TurnRow.question, TurnRow.answer).where(TurnRow.thread_id == thread_id)
                                   .order_by(TurnRow.id).limit(limit)).all()
        return [Turn(question, answer) for question, answer in rows]

    def forget_source(self, source: str, scope: str) -> int:
        """Drop the turns (and their votes) that cited `source` in the threads `scope` covers: a
        deleted document must not live on in what kbot remembers saying about it."""
        platform, workspace, channel = parse_scope(scope)
        threads = select(ThreadRow.id)
        if platform != GLOBAL:
            threads = threads.where(ThreadRow.platform == platform, ThreadRow.workspace == workspace)
            if channel is not None:
                threads = threads.where(ThreadRow.channel == channel)
        with Session(self.engine) as session, session.begin():
            rows = session.execute(select(TurnRow.id, TurnRow.sources, TurnRow.reply_id)
                                   .where(TurnRow.thread_id.in_(threads))).all()
            doomed = [row for row in rows if any(isinstance(s, dict) and s.get("source") == source
                                                 for s in row.sources or [])]
            if doomed:
                replies = [row.reply_id for row in doomed if row.reply_id]
                session.execute(delete(FeedbackRow).where(FeedbackRow.reply_id.in_(replies)))
                session.execute(delete(TurnRow).where(TurnRow.id.in_([row.id for row in doomed])))
        return len(doomed)

    def remember(
        self, key: ThreadKey, *, question: str, query: str, answer: str, sources: list[dict[str, Any]], mode: str,
        author: str,
        reply_id: str | None = None, private: bool = False,
    ) -> None:
        """Committed when it returns; turns remembered at the same moment share one transaction. `private`:
        the thread is in a place only some can see (recorded with the thread when it is new)."""
        self._turns.submit(_NewTurn(key, dict(question=self.redact(question), query=self.redact(query),
                                              answer=self.redact(answer), sources=sources, mode=mode, author=author,
                                              reply_id=reply_id), private))

    def _write_turns(self, turns: list[_NewTurn]) -> None:
        with Session(self.engine) as session, session.begin():
            for turn in turns:
                thread = self._thread_id(session, turn.key, create=True, private=turn.private)
                session.add(TurnRow(thread_id=thread, **turn.fields))

    def _write_turn(self, turn: _NewTurn) -> None:
        self._write_turns([turn])
