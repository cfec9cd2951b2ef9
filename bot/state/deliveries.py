"""Exactly-once handling of platform events, enforced by a unique row so two processes cannot both answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.state.db import DeliveryRow, rows_changed


class DeliveryLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, platform: str, event_key: str) -> bool:
        """True for the first delivery of `event_key`; False for every repeat, in any process."""
        try:
            with Session(self.engine) as session, session.begin():
                session.add(DeliveryRow(platform=platform, event_key=event_key[:255]))
        except IntegrityError:
            return False
        return True

    def forget_older_than(self, age: timedelta) -> int:
        """Platforms stop retrying after minutes; rows older than `age` only take space."""
        cutoff = datetime.now(UTC) - age
        with Session(self.engine) as session, session.begin():
            result = session.execute(delete(DeliveryRow).where(DeliveryRow.created_at < cutoff))
        return rows_changed(result)
