"""The worker loop of `kbot run`: claims jobs, runs them on a thread pool, shows their progress where
each was asked for, beats their heartbeats, relays other workers' progress, re-syncs and cleans up on
a schedule (APScheduler decides when to look; the SQL row is the truth)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.jobs import JobListener, JobView, ProgressTarget
from bot.jobs.execution import execute
from bot.jobs.queue import JobQueue, reaches
from bot.state.database_watch import DatabaseWatch

log = logging.getLogger("kbot.jobs")
INTERRUPT_WAIT_S = 15.0  # after the grace period: how long a job may take to reach its next step


class JobRunner:
    """Runs claimed jobs on their own threads (`concurrency` at a time), so questions stay fast."""

    def __init__(self, queue: JobQueue, on_event: JobListener, *, concurrency: int = 1, poll_s: float = 1.0,
                 heartbeat_s: float = 5.0, keep_ended: timedelta = timedelta(days=7),
                 resync: Callable[[], object] | None = None, resync_s: float = 0, claims: bool = True,
                 platforms: frozenset[str] | None = None, watch: DatabaseWatch | None = None) -> None:
        """`claims`: this process runs jobs (`--role worker|all`); `platforms`: those it can show progress
        on (None: any). Jobs it cannot show, chat processes relay; a worker has `frozenset()`."""
        self.queue = queue
        self.on_event = on_event
        self.watch = watch  # while the database is away, the polls wait (one line in the log, not one a second)
        self.claims = claims
        self.platforms = platforms
        self.concurrency = concurrency
        self.poll_s = poll_s
        self.heartbeat_s = heartbeat_s
        self.keep_ended = keep_ended
        self.resync = resync
        self.resync_s = resync_s
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="kbot-index")
        self._running: dict[int, asyncio.Task[None]] = {}
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._stopping = False
        self._interrupt = threading.Event()  # set when the grace period is over: jobs stop at their next step
        self._claiming = asyncio.Lock()
        self._next: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for call, seconds in ((self.dispatch, self.poll_s), (self._beat, self.heartbeat_s), (self._cleanup, 3600.0)):
            self._scheduler.add_job(self._unless_away(call), "interval", seconds=seconds, max_instances=1,
                                    coalesce=True)
        if self.claims and self.resync is not None and self.resync_s > 0:
            self._scheduler.add_job(self._unless_away(self._resync), "interval", seconds=self.resync_s,
                                    max_instances=1, coalesce=True)
        self._scheduler.start()
        await self._unless_away(self.dispatch)()

    def _unless_away(self, call: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """A poll that waits while the database is away; its first failure marks it away (logged once)."""
        async def polled() -> None:
            if self.watch is not None and self.watch.down:
                return
            try:
                await call()
            except Exception as exc:
                if self.watch is None or not self.watch.failed(exc):
                    raise

        return polled

    def reaches(self, target: ProgressTarget | None) -> bool:
        """This process can show a job with this target (no target: nobody watches, anyone may)."""
        return reaches(self.platforms, target)

    async def dispatch(self) -> None:
        """Start queued (or abandoned) jobs while there is room; show what workers cannot."""
        if self.platforms is None or self.platforms:
            await self._relay()
        await self._claim()

    async def _claim(self) -> None:
        async with self._claiming:  # the poll and a finishing job may both look for work
            while self.claims and not self._stopping and len(self._running) < self.concurrency:
                job = await asyncio.to_thread(self.queue.claim, platforms=self.platforms)
                if job is None:
                    return
                self._running[job.id] = asyncio.create_task(self._run(job))

    async def _relay(self) -> None:
        """Progress of jobs a worker runs (one process edits each step), and completions nobody sent."""
        for view in await asyncio.to_thread(self.queue.steps_to_relay):
            if self.reaches(view.target) and await asyncio.to_thread(self.queue.take_step, view):
                await self._emit(view)
        for view in await asyncio.to_thread(self.queue.unnotified):
            if self.reaches(view.target) and await asyncio.to_thread(self.queue.take_notification, view.id):
                await self._emit(view)

    async def _run(self, job: JobView) -> None:
        """Run one job; its progress is shown in order, newest first when it comes faster than it can be
        shown, and the completion only after the last progress edit."""
        loop = asyncio.get_running_loop()
        steps: asyncio.Queue[JobView | None] = asyncio.Queue()

        shows = self.reaches(job.target)  # else chat processes relay it from the job's row

        def progress(view: JobView) -> None:  # called on the indexing thread
            if shows:
                loop.call_soon_threadsafe(steps.put_nowait, view)

        shown = asyncio.create_task(self._show_in_order(steps))
        try:
            if shows:
                steps.put_nowait(job)
            ended = await loop.run_in_executor(self._pool, execute, self.queue, job, progress, self._interrupt)
            steps.put_nowait(None)
            await shown
            if ended is not None and shows and await asyncio.to_thread(self.queue.take_notification, job.id):
                await self._emit(ended)
        finally:
            if not shown.done():
                steps.put_nowait(None)
                await asyncio.wait({shown}, timeout=5)
            self._running.pop(job.id, None)
            if not self._stopping:  # the next queued job starts now, not at the next poll
                self._next = asyncio.create_task(self._claim())

    async def _show_in_order(self, steps: asyncio.Queue[JobView | None]) -> None:
        """One progress edit at a time; steps that queued up meanwhile collapse into the newest."""
        while True:
            view = await steps.get()
            while view is not None and not steps.empty():
                newer = steps.get_nowait()
                if newer is None:
                    await self._emit(view)
                    return
                view = newer
            if view is None:
                return
            await self._emit(view)

    async def _emit(self, view: JobView) -> None:
        try:
            await self.on_event(view)
        except Exception:
            log.warning("could not report progress of job %s", view.id, exc_info=True)

    async def _beat(self) -> None:
        for job_id in list(self._running):
            await asyncio.to_thread(self.queue.heartbeat, job_id)

    async def _resync(self) -> None:
        """On the indexing threads, so it shares the concurrency limit with uploads."""
        if self.resync is not None and not self._stopping:
            try:
                await asyncio.get_running_loop().run_in_executor(self._pool, self.resync)
            except Exception:
                log.exception("re-sync failed")

    async def _cleanup(self) -> None:
        removed = await asyncio.to_thread(self.queue.cleanup, self.keep_ended)
        if removed:
            log.info("removed %d ended jobs and their uploads", removed)

    async def stop(self, grace_s: float = 10.0) -> None:
        """No new jobs; running ones get `grace_s` to finish (and tell their chat), then stop at their
        next step and are left to be resumed by the next start."""
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._running:
            await asyncio.wait(set(self._running.values()), timeout=grace_s)
        self._interrupt.set()
        if self._running:
            await asyncio.wait(set(self._running.values()), timeout=INTERRUPT_WAIT_S)
        self._pool.shutdown(wait=False, cancel_futures=True)
