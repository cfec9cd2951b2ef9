"""A private answer shared with the channel: read back from thread memory (text and cited sources),
and only by the person it was given to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.messages import Answer, Source, Why
from bot.state.db import ThreadRow, TurnRow

NOT_YOURS = "Only the person who asked can share this answer."
GONE = "That answer is no longer on record, so it can't be shared; ask again in the channel."
ELSEWHERE = "That answer was given for another channel, so it can only be shared there."


def _source(data: dict[str, Any]) -> Source:
    return Source(number=int(data.get("number") or 0), source=str(data.get("source") or ""),
                  title=data.get("title"), page=data.get("page"), heading=data.get("heading"), url=data.get("url"),
                  score=0.0, text="", why=Why.from_json(data.get("why")), page_end=data.get("page_end"))


def answer_to_share(engine: Engine, reply_id: str, user: str, platform: str, channel: str) -> Answer | str:
    """The answer as it was given, or why it cannot be shared: only by its asker, and only into the
    channel it was asked in (the button's target is client data; the answer used that channel's
    knowledge). Blocking: database."""
    with Session(engine) as session:
        found = session.execute(select(TurnRow, ThreadRow.platform, ThreadRow.channel)
                                .join(ThreadRow, ThreadRow.id == TurnRow.thread_id)
                                .where(TurnRow.reply_id == reply_id)).first()
        if found is None:
            return GONE
        turn, asked_on, asked_in = found
        if turn.author != user:
            return NOT_YOURS
        if (asked_on, asked_in) != (platform, channel):
            return ELSEWHERE
        sources = [_source(s) for s in turn.sources or [] if isinstance(s, dict)]
        return Answer(turn.answer, sources, mode=turn.mode, grounded=bool(sources), reply_id=reply_id)
