"""Group commit: writes that arrive together share one transaction.

Telegram hands kbot its questions in batches, so their answers end together, and each answer's turn
is written before its final message is sent. One transaction per turn makes the last of them wait
for every other commit (SQLite commits one at a time); one transaction for all that are waiting
costs about as much as one. Each caller still returns only once its own write is committed, so a
button or a follow-up that looks the turn up finds it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
log = logging.getLogger("kbot.db")


class GroupCommit(Generic[Item]):
    """`submit(item)` blocks until `item` is written. Whoever finds the writer free writes everything
    submitted so far with `write_many`; if that fails, each item is written alone with `write_one`,
    so one bad item fails only its own caller."""

    def __init__(self, write_many: Callable[[list[Item]], None], write_one: Callable[[Item], None]) -> None:
        self._write_many = write_many
        self._write_one = write_one
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()
        self._pending: list[tuple[Item, Future[None]]] = []

    def submit(self, item: Item) -> None:
        done: Future[None] = Future()
        with self._queue_lock:
            self._pending.append((item, done))
        with self._writer:
            with self._queue_lock:
                batch, self._pending = self._pending, []
            try:
                if batch:
                    self._write(batch)
            finally:  # even if this thread is interrupted mid-write, nobody waits for it forever
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(RuntimeError("the write was interrupted"))
        done.result()  # raises this item's own error

    def _write(self, batch: list[tuple[Item, Future[None]]]) -> None:
        if len(batch) > 1:
            try:
                self._write_many([item for item, _ in batch])
            except Exception:
                log.warning("a group of %d writes failed; writing them one by one", len(batch), exc_info=True)
            else:
                for _, done in batch:
                    done.set_result(None)
                return
        for item, done in batch:
            try:
                self._write_one(item)
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)
