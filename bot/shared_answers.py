"""A private answer shared with the channel: read back from thread memory (text and cited sources),
and only by the person it was given to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import TurnRow
from bot.messages import Answer, Source, Why

NOT_YOURS = "Only the person who asked can share this answer."
GONE = "That answer is no longer on record, so it can't be shared; ask again in the channel."


def _source(data: dict) -> Source:
    return Source(number=int(data.get("number") or 0), source=str(data.get("source") or ""),
                  title=data.get("title"), page=data.get("page"), heading=data.get("heading"), url=data.get("url"),
                  score=0.0, text="", why=Why.from_json(data.get("why")), page_end=data.get("page_end"))


def answer_to_share(engine: Engine, reply_id: str, user: str) -> Answer | str:
    """The answer as it was given, or why it cannot be shared. Blocking: database."""
    with Session(engine) as session:
        turn = session.scalar(select(TurnRow).where(TurnRow.reply_id == reply_id))
        if turn is None:
            return GONE
        if turn.author != user:
            return NOT_YOURS
        sources = [_source(s) for s in turn.sources or [] if isinstance(s, dict)]
        return Answer(turn.answer, sources, mode=turn.mode, grounded=bool(sources), reply_id=reply_id)
