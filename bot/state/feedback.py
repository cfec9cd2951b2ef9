"""👍/👎 on answers, stored next to the turn they rate (joined by the reply id the buttons carry)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.state.db import FeedbackRow, TurnRow

THANKS = {1: "Thanks for the 👍, glad it helped.", -1: "Thanks for the 👎; it's recorded so the answers can improve."}
UNKNOWN_ANSWER = "That answer is no longer on record, so the vote wasn't stored."


def parse_vote(value: str) -> int | None:
    """The button payload "up"/"down" as +1/-1; anything else is not a vote."""
    return {"up": 1, "down": -1}.get(value)


class FeedbackLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, reply_id: str, user: str, value: int) -> str:
        """Store one person's vote (a second click replaces the first) and return the acknowledgement."""
        if value not in (1, -1):
            raise ValueError("a vote is +1 or -1")
        with Session(self.engine) as session, session.begin():
            if session.scalar(select(TurnRow.id).where(TurnRow.reply_id == reply_id)) is None:
                return UNKNOWN_ANSWER
            row = session.scalar(select(FeedbackRow).where(FeedbackRow.reply_id == reply_id, FeedbackRow.user == user))
            if row is not None:
                row.value = value
            else:
                try:
                    with session.begin_nested():
                        session.add(FeedbackRow(reply_id=reply_id, user=user, value=value))
                except IntegrityError:  # the same person's other click, in another process
                    pass
        return THANKS[value]

    def votes(self, reply_id: str) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.scalars(select(FeedbackRow).where(FeedbackRow.reply_id == reply_id)).all()
            return {row.user: row.value for row in rows}
