"""Thread memory: the turns of each (platform, workspace, channel, thread), trimmed to a budget."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import ThreadRow, TurnRow
from bot.messages import ThreadKey


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


class ThreadMemory:
    def __init__(self, engine: Engine, budget_chars: int = 6000) -> None:
        self.engine = engine
        self.budget_chars = budget_chars

    def _thread_id(self, session: Session, key: ThreadKey, create: bool) -> int | None:
        query = select(ThreadRow.id).where(
            ThreadRow.platform == key.platform, ThreadRow.workspace == key.workspace,
            ThreadRow.channel == key.channel, ThreadRow.thread == key.thread,
        )
        found = session.scalar(query)
        if found is not None or not create:
            return found
        try:
            with session.begin_nested():
                row = ThreadRow(platform=key.platform, workspace=key.workspace, channel=key.channel, thread=key.thread)
                session.add(row)
            return row.id
        except IntegrityError:  # another process created it first
            return session.scalar(query)

    def knows(self, key: ThreadKey) -> bool:
        """Has kbot answered in this thread before (in any process)?"""
        with Session(self.engine) as session:
            return self._thread_id(session, key, create=False) is not None

    def history(self, key: ThreadKey) -> list[Turn]:
        """The most recent turns that fit the budget, oldest first."""
        with Session(self.engine) as session:
            thread_id = self._thread_id(session, key, create=False)
            if thread_id is None:
                return []
            rows = session.scalars(
                select(TurnRow).where(TurnRow.thread_id == thread_id).order_by(TurnRow.id.desc()).limit(50)
            ).all()
        kept: list[Turn] = []
        used = 0
        for row in rows:
            size = len(row.question) + len(row.answer)
            if kept and used + size > self.budget_chars:
                break
            kept.append(Turn(row.question, row.answer))
            used += size
        return list(reversed(kept))

    def remember(
        self, key: ThreadKey, *, question: str, query: str, answer: str, sources: list[dict], mode: str, author: str,
        reply_id: str | None = None,
    ) -> None:
        with Session(self.engine) as session, session.begin():
            thread_id = self._thread_id(session, key, create=True)
            session.add(TurnRow(thread_id=thread_id, question=question, query=query, answer=answer,
                                sources=sources, mode=mode, author=author, reply_id=reply_id))
