"""Rate limits kept in the database, so every process sharing it counts the same events.

Each limit counts events per fixed window; the estimate weighs the previous window by how much
of it still falls inside a sliding one (the approach large API gateways use). One call admits an
event against several limits at once, in one transaction: if any is exceeded, none counts it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.state.db import RateCounterRow, rows_changed


@dataclass(frozen=True)
class Limit:
    """At most `count` events per `window_s` for `key`; `name` says which limit it was."""

    name: str
    key: str
    count: int
    window_s: int


class RateLimiter:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock  # wall-clock time: every process must agree on the windows
        # SQLite takes one writer at a time and makes the others poll for the lock (sleeping up to
        # 25 ms a try); queueing this process's own counters on a lock instead wakes them at once.
        self._local_writer = threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()

    def _increment(self, session: Session, key: str, window_start: int) -> int:
        table = cast(Table, RateCounterRow.__table__)  # a declarative class's table is a Table
        dialect = self.engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
            statement = insert.values(key=key, window_start=window_start, count=1).on_conflict_do_update(
                index_elements=["key", "window_start"], set_={"count": table.c.count + 1}
            ).returning(table.c.count)
            return int(session.execute(statement).scalar_one())
        changed = rows_changed(session.execute(update(RateCounterRow).where(
            RateCounterRow.key == key, RateCounterRow.window_start == window_start)
            .values(count=RateCounterRow.count + 1)))
        if not changed:
            try:
                with session.begin_nested():
                    session.add(RateCounterRow(key=key, window_start=window_start, count=1))
            except IntegrityError:  # another process made the row first
                return self._increment(session, key, window_start)
        return int(session.scalar(select(RateCounterRow.count).where(
            RateCounterRow.key == key, RateCounterRow.window_start == window_start)) or 1)

    def admit(self, limits: Sequence[Limit]) -> Limit | None:
        """Count one event against every limit; the first limit it would exceed (and nothing counted), or None."""
        if not limits:
            return None
        now = self.clock()
        starts = {limit.key: int(now // limit.window_s) * limit.window_s for limit in limits}
        with self._local_writer, Session(self.engine) as session:
            previous = {(key, start): count for key, start, count in session.execute(
                select(RateCounterRow.key, RateCounterRow.window_start, RateCounterRow.count).where(
                    or_(*(and_(RateCounterRow.key == limit.key,
                               RateCounterRow.window_start == starts[limit.key] - limit.window_s)
                          for limit in limits))))}
            for limit in limits:
                start = starts[limit.key]
                current = self._increment(session, limit.key, start)
                overlap = 1 - (now - start) / limit.window_s
                if previous.get((limit.key, start - limit.window_s), 0) * overlap + current > limit.count:
                    session.rollback()  # none of this event's increments stand
                    return limit
            session.commit()
        return None

    def forget_older_than(self, seconds: float) -> int:
        """Windows that ended long ago only take space (housekeeping)."""
        cutoff = int(self.clock() - seconds)
        with Session(self.engine) as session, session.begin():
            result = session.execute(delete(RateCounterRow).where(RateCounterRow.window_start < cutoff))
        return rows_changed(result)
