"""Tables that would otherwise grow forever, pruned on a schedule (APScheduler) by `kbot run`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("kbot.housekeeping")

Task = Callable[[], int]  # blocking; returns how many rows it removed


class Housekeeping:
    """Each task runs in a worker thread every `interval_s`; a failing task is logged and tried next time."""

    def __init__(self, tasks: dict[str, Task], interval_s: float = 3600) -> None:
        self.tasks = tasks
        self.interval_s = interval_s
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    async def run_once(self) -> dict[str, int]:
        removed: dict[str, int] = {}
        for name, task in self.tasks.items():
            try:
                removed[name] = await asyncio.to_thread(task)
            except Exception:
                log.warning("housekeeping: %s failed", name, exc_info=True)
                continue
            if removed[name]:
                log.info("housekeeping: removed %d %s", removed[name], name)
        return removed

    def start(self) -> None:
        self._scheduler.add_job(self.run_once, "interval", seconds=self.interval_s, max_instances=1, coalesce=True)
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
