"""SQLite transactions of one process take turns on a Python lock instead of SQLite's busy handler.

SQLite lets one writer in at a time. A connection that finds the file locked sleeps in SQLite's
busy handler (1, 2, 5, 10, 15, 20, 25, … 100 ms) and tries again, so when a burst of answers ends
together (Telegram's long polling hands kbot a batch of questions at once), each answer's turn
write waited tens of milliseconds after the lock was already free: with 33 Telegram answers in
step, the turn write took 40–100 ms and the final reached private chats at p95 170–310 ms
(bench/platforms.py). A lock wakes the next thread the moment the previous transaction ends.

Other processes on the same file still meet SQLite's own locking and busy handler. A transaction
that is never ended by a commit or a rollback (a connection invalidated mid-way) gives its turn
back when its connection is invalidated or returns to the pool, and no thread waits longer than
`WAIT_S` for a turn: past that it goes ahead and SQLite decides, as it did without this.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WAIT_S = 5.0  # as long as the busy_timeout SQLite itself is given
_HELD = "kbot_sqlite_turn"


def take_turns(engine: Engine, wait_s: float = WAIT_S) -> None:
    """Serialise this engine's transactions within the process (reentrant: a thread that opens a
    second session while its first is open is not stopped by itself)."""
    turn = threading.RLock()

    def begin(connection: Any) -> None:
        if turn.acquire(timeout=wait_s):
            connection.info[_HELD] = connection.info.get(_HELD, 0) + 1

    def end(connection: Any) -> None:
        if not connection.invalidated:  # an invalidated one gave its turn back already (see pooled)
            give_back(connection.info)

    def give_back(info: dict[str, Any]) -> None:
        held = info.pop(_HELD, 0)
        for _ in range(held):
            try:
                turn.release()
            except RuntimeError:  # returned from another thread (a collected connection): WAIT_S bounds it
                return

    def pooled(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        if record is not None:
            give_back(record.info)

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    # A connection invalidated mid-transaction (a failed statement, a lost file) ends with no commit
    # or rollback event, and its record's info is cleared: give the turn back before that happens.
    for name in ("checkin", "invalidate", "soft_invalidate", "detach"):
        event.listen(engine.pool, name, pooled)
