"""Durable indexing jobs: a SQL row is the truth for each job; APScheduler only decides when to look.

A job is claimed with a conditional UPDATE, so two processes never run the same one. A running job
beats its heartbeat; one whose heartbeat stops (the process died) is claimed again and re-run.
Indexing is idempotent (chunk ids come from the content), so a re-run never duplicates chunks, and
`take_notification` hands the completion message to exactly one process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.database_watch import DatabaseWatch
from bot.db import JobRow, JobUploadRow
from bot.rag.indexing import Indexer, IndexOutcome
from bot.rag.knowledge_base import source_filter
from bot.rag.parsing import kind_for
from bot.shown import safe_name

log = logging.getLogger("kbot.jobs")

_UNITS = {"reading": "pages", "embedding": "chunks", "writing": "chunks"}
INTERRUPT_WAIT_S = 15.0  # after the grace period: how long a job may take to reach its next step
IN_DATABASE = "job_uploads"  # JobRow.location of an upload kept in the database
FOLD_AFTER_ROWS = 5000  # while jobs wait, rows the full-text index may leave to a scan before a fold


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass(frozen=True)
class ProgressTarget:
    """Where a job's progress message is, in the ids of the platform that posted it."""

    platform: str
    workspace: str  # Slack team, Discord server (or `dm:<user>`), Telegram chat
    channel: str  # Slack channel, Discord channel, Telegram chat
    message: str  # Slack ts, Discord message id, Telegram message id
    thread: str | None = None  # Slack thread_ts, Telegram forum topic

    def to_json(self) -> dict[str, str | None]:
        return {"platform": self.platform, "workspace": self.workspace, "channel": self.channel,
                "message": self.message, "thread": self.thread}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ProgressTarget | None:
        """The stored target, or None (nobody watches, or a row kbot 0.1 wrote in its own shapes: the
        job still runs, only its old progress message is not edited)."""
        if not data or not data.get("platform") or data.get("channel") is None or data.get("message") is None:
            return None
        thread = data.get("thread")
        return cls(str(data["platform"]), str(data.get("workspace") or ""), str(data["channel"]),
                   str(data["message"]), None if thread is None else str(thread))


@dataclass(frozen=True)
class JobView:
    """A snapshot of one job, for progress messages and `/kb status`."""

    id: int
    source: str
    scope: str
    state: str
    stage: str
    done: int
    total: int
    chunks: int
    pages: int
    attempts: int
    error: str | None
    target: ProgressTarget | None  # None: nobody watches it (a terminal session, a re-sync)
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    warnings: str | None = None  # what a done job could not read (e.g. pages OCR found no text on)
    reused: int = 0  # chunks that kept the vectors of the document's previous version

    @classmethod
    def of(cls, row: JobRow) -> JobView:
        return cls(row.id, row.source, row.scope, row.state, row.stage, row.done, row.total, row.chunks, row.pages,
                   row.attempts, row.error, ProgressTarget.from_json(row.target), _aware(row.created_at) or _now(),
                   _aware(row.started_at), _aware(row.finished_at), row.warnings, row.reused or 0)

    @property
    def ended(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def name(self) -> str:
        return self.source.rsplit("/", 1)[-1] if not self.source.startswith("http") else self.source

    def describe(self) -> str:
        """One line, e.g. `handbook.pdf — reading 40/120 pages` or `✓ handbook.pdf indexed: 318 chunks in 12 s`."""
        if self.state == "done":
            took = (self.finished_at - self.started_at).total_seconds() if self.finished_at and self.started_at else 0
            notes = f" — {self.warnings}" if self.warnings else ""
            kept = f" ({self.reused} unchanged since the last version)" if self.reused else ""
            return f"✓ {self.name} indexed: {self.chunks} chunks{kept} in {took:.0f} s{notes}"
        if self.state == "failed":
            return f"✗ {self.name} was not indexed: {self.error}"
        if self.state == "queued":
            return f"{self.name} — queued"
        if self.stage == "ocr":
            return f"{self.name} — reading page {self.done}/{self.total} (OCR)"
        unit = _UNITS.get(self.stage, "")
        counts = f" {self.done}/{self.total} {unit}".rstrip() if self.total else ""
        return f"{self.name} — {self.stage}{counts}"


def _reaches(platforms: frozenset[str] | None, target: ProgressTarget | None) -> bool:
    """A process with these platforms (None: any) can show a job with this target (None: nobody watches)."""
    return platforms is None or target is None or target.platform in platforms


class JobQueue:
    """The jobs table, and running one job (synchronously, in a worker thread)."""

    def __init__(self, engine: Engine, indexer: Indexer, *, max_attempts: int = 3, stale_after_s: float = 60.0,
                 runner: str | None = None) -> None:
        self.engine = engine
        self.indexer = indexer
        self.max_attempts = max_attempts
        self.stale_after_s = stale_after_s
        self.runner = runner or f"{socket.gethostname()}:{os.getpid()}"

    def _add(self, row: JobRow, data: bytes | None = None) -> int:
        with Session(self.engine) as session, session.begin():
            session.add(row)
            session.flush()
            if data is not None:
                session.add(JobUploadRow(job_id=row.id, data=data))
            return row.id

    def enqueue_file(self, data: bytes, filename: str, scope: str, uploader: str | None,
                     target: ProgressTarget | None) -> int:
        """Keep the upload in the database (the job outlives this process, and a worker on another
        machine runs it) and queue it."""
        # The name as people will see it, made safe once here (bot/shown.py): one line, 200 characters.
        return self._add(JobRow(kind="file", source=safe_name(Path(safe_name(filename)).name), scope=scope,
                                uploader=uploader,
                                location=IN_DATABASE, target=target.to_json() if target else {}), data)

    def enqueue_url(self, url: str, scope: str, uploader: str | None, target: ProgressTarget | None) -> int:
        return self._add(JobRow(kind="url", source=url, scope=scope, uploader=uploader, location=url,
                                target=target.to_json() if target else {}))

    def get(self, job_id: int) -> JobView | None:
        with Session(self.engine) as session:
            row = session.get(JobRow, job_id)
            return JobView.of(row) if row is not None else None

    def recent(self, scopes: set[str] | None = None, limit: int = 10) -> list[JobView]:
        with Session(self.engine) as session:
            query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
            if scopes is not None:
                query = query.where(JobRow.scope.in_(scopes))
            return [JobView.of(row) for row in session.scalars(query)]

    def _fair_order(self, session: Session, stale: datetime, job_id: int | None) -> list[int]:
        """Runnable jobs in the order they are taken: abandoned ones first (they were taken already),
        then queued ones in turns, so that one person's or one place's thirty uploads cannot keep
        everyone else's waiting: an uploader's n-th unfinished job (running ones count) comes after
        everyone's (n-1)-th; among those, a place's n-th after every place's (n-1)-th; then the oldest."""
        if job_id is not None:
            return [job_id]
        abandoned = session.scalars(select(JobRow.id).where(JobRow.state == "running", JobRow.heartbeat_at < stale)
                                    .order_by(JobRow.id).limit(5)).all()
        person = func.row_number().over(partition_by=JobRow.uploader, order_by=JobRow.id).label("person")
        place = func.row_number().over(partition_by=JobRow.scope, order_by=JobRow.id).label("place")
        turns = select(JobRow.id, JobRow.state, person, place).where(
            JobRow.state.in_(("queued", "running"))).subquery()
        queued = session.scalars(select(turns.c.id).where(turns.c.state == "queued")
                                 .order_by(turns.c.person, turns.c.place, turns.c.id).limit(5)).all()
        return [*abandoned, *queued]

    def claim(self, job_id: int | None = None, *, platforms: frozenset[str] | None = None) -> JobView | None:
        """The next job in fair order (`_fair_order`), or `job_id`; None if there is none.

        `platforms`: those this process can show progress on (None: any). A job it cannot show (a
        worker has none) is marked so, and the chat processes relay it (`steps_to_relay`)."""
        stale = _now() - timedelta(seconds=self.stale_after_s)
        runnable = or_(JobRow.state == "queued",
                       and_(JobRow.state == "running", JobRow.heartbeat_at < stale))
        with Session(self.engine) as session, session.begin():
            order = self._fair_order(session, stale, job_id)
            # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
            # SQLite has no row locks; the conditional UPDATE below is the lock on both.
            locked = {row.id: row for row in session.scalars(
                select(JobRow).where(runnable, JobRow.id.in_(order)).with_for_update(skip_locked=True))}
            rows = [locked[job] for job in order if job in locked]
            for row in rows:
                if row.attempts >= self.max_attempts:
                    session.execute(update(JobRow).where(JobRow.id == row.id, JobRow.attempts == row.attempts,
                                                         JobRow.state == row.state)
                                    .values(state="failed", error="it failed repeatedly; try again",
                                            finished_at=_now()))
                    continue
                claimed = session.execute(
                    update(JobRow).where(JobRow.id == row.id, JobRow.attempts == row.attempts,
                                         JobRow.state == row.state)
                    .values(state="running", attempts=row.attempts + 1, heartbeat_at=_now(),
                            started_at=row.started_at or _now(), stage="starting", runner=self.runner,
                            runner_reports=_reaches(platforms, ProgressTarget.from_json(row.target)),
                            shown=None)
                ).rowcount
                if claimed == 1:
                    claimed_id = row.id
                    break
            else:
                return None
        return self.get(claimed_id)

    def waiting(self) -> int:
        """Jobs queued and not yet claimed."""
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(JobRow).where(JobRow.state == "queued")) or 0

    def heartbeat(self, job_id: int) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.state == "running")
                            .values(heartbeat_at=_now()))

    def progress(self, job_id: int, stage: str, done: int, total: int) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.state == "running")
                            .values(stage=stage, done=done, total=total, heartbeat_at=_now()))

    def _end(self, job_id: int, **values: object) -> JobView:
        with Session(self.engine) as session, session.begin():
            session.execute(update(JobRow).where(JobRow.id == job_id).values(finished_at=_now(), **values))
        view = self.get(job_id)
        assert view is not None
        return view

    def run(self, job: JobView, on_progress: Callable[[JobView], None] | None = None,
            interrupt: threading.Event | None = None) -> JobView | None:
        """Index the job's document; returns the ended job. Any failure ends it with a reason.

        With `interrupt` set (the process is stopping) the job stops at its next progress step and
        None is returned: the row stays running, and the next process takes it over when its
        heartbeat is stale. Chunks already written are kept; content ids make the re-run add none twice.
        """

        def progress(stage: str, done: int, total: int) -> None:
            if interrupt is not None and interrupt.is_set():
                raise JobInterrupted
            self.progress(job.id, stage, done, total)
            if on_progress is not None:
                on_progress(replace(job, state="running", stage=stage, done=done, total=total))

        with Session(self.engine) as session:
            row = session.get(JobRow, job.id)
            assert row is not None
            kind, location, uploader = row.kind, row.location, row.uploader
        try:
            if kind == "url":
                outcome = self.indexer.index_url(location, job.scope, uploader, progress)
            else:
                data = self._upload(job.id, location)
                outcome = self.indexer.index_bytes(data, kind_for(job.source), job.source, job.scope, uploader,
                                                   progress)
        except JobInterrupted:
            log.info("job %s stopped for shutdown; the next start resumes it", job.id)
            return None
        except Exception as exc:  # the job ends, the worker lives on
            log.exception("job %s failed", job.id)
            return self._end(job.id, state="failed", error=f"indexing failed ({exc.__class__.__name__})")
        return self._finish(job, outcome)

    def _fold_into_indexes(self, job: JobView) -> None:
        """New rows are searchable at once, but by a scan beside the full-text index (a keyword query
        took 20 ms instead of 3 on a 700-chunk manual): fold them in, as `kbot ingest` does, once the
        queue is drained. Folding after every job of a bulk upload rewrote the table once per job, and
        several workers doing it at once mostly fought over commits (bench/scale.py)."""
        unindexed = getattr(self.indexer.kb.backend.document_store, "unindexed_rows", None)
        if self.waiting() and (unindexed is None or unindexed() < FOLD_AFTER_ROWS):
            return
        try:
            self.indexer.kb.optimize()
        except Exception:  # the document is indexed either way; the next job or ingest folds it in
            log.warning("job %s: could not fold new chunks into the search indexes", job.id, exc_info=True)

    def _finish(self, job: JobView, outcome: IndexOutcome) -> JobView:
        if outcome.status == "failed":
            return self._end(job.id, state="failed", error=outcome.reason or "unknown reason")
        chunks = outcome.chunks
        if outcome.status == "indexed":
            self._fold_into_indexes(job)
        if outcome.status == "unchanged":  # a re-run after a crash, or the same file again
            chunks = len(self.indexer.kb.chunk_metadata(source_filter(job.source, [job.scope])))
        notes = "; ".join(outcome.warnings)[:500] or None
        return self._end(job.id, state="done", stage="done", chunks=chunks, pages=outcome.pages, error=None,
                         warnings=notes, reused=outcome.reused)

    def _upload(self, job_id: int, location: str) -> bytes:
        """The uploaded file: in the database, or (jobs queued by kbot before 0002_workers) on disk."""
        if location != IN_DATABASE:
            return Path(location).read_bytes()
        with Session(self.engine) as session:
            upload = session.get(JobUploadRow, job_id)
            if upload is None:
                raise FileNotFoundError(f"the upload of job {job_id} is gone")
            return upload.data

    def _forget(self, *conditions: Any) -> int:
        """Delete the matching job rows and their stored uploads."""
        with Session(self.engine) as session, session.begin():
            rows = session.execute(select(JobRow.id, JobRow.kind, JobRow.location).where(*conditions)).all()
            ids = [row.id for row in rows]
            session.execute(delete(JobUploadRow).where(JobUploadRow.job_id.in_(ids)))
            session.execute(delete(JobRow).where(JobRow.id.in_(ids)))
        for row in rows:
            if row.kind == "file" and row.location != IN_DATABASE:
                Path(row.location).unlink(missing_ok=True)
        return len(rows)

    def forget_source(self, source: str, scope: str) -> int:
        """Remove a deleted document's job rows and stored uploads."""
        return self._forget(JobRow.source == source, JobRow.scope == scope)

    def unnotified(self, settle_s: float = 5.0) -> list[JobView]:
        """Ended jobs whose completion nobody sent: their process stopped first (after `settle_s`, so
        the process that finished a job gets to tell it itself), or it could not (a worker)."""
        cutoff = _now() - timedelta(seconds=settle_s)
        with Session(self.engine) as session:
            rows = session.scalars(select(JobRow).where(
                JobRow.state.in_(("done", "failed")), JobRow.notified.is_(False),
                or_(JobRow.finished_at < cutoff, JobRow.runner_reports.is_(False))))
            return [JobView.of(row) for row in rows]

    def steps_to_relay(self) -> list[JobView]:
        """Running jobs whose runner does not show their progress (`--role worker`)."""
        with Session(self.engine) as session:
            rows = session.scalars(select(JobRow).where(JobRow.state == "running",
                                                        JobRow.runner_reports.is_(False)))
            return [JobView.of(row) for row in rows]

    def take_step(self, view: JobView) -> bool:
        """True for exactly one caller per new step of a relayed job: that caller edits the progress."""
        step = f"{view.stage}:{view.done}:{view.total}"[:64]
        with Session(self.engine) as session, session.begin():
            return session.execute(
                update(JobRow).where(JobRow.id == view.id, JobRow.state == "running",
                                     or_(JobRow.shown.is_(None), JobRow.shown != step)).values(shown=step)
            ).rowcount == 1

    def take_notification(self, job_id: int) -> bool:
        """True for exactly one caller once the job has ended: that caller sends the completion message."""
        with Session(self.engine) as session, session.begin():
            return session.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.state.in_(("done", "failed")),
                                     JobRow.notified.is_(False)).values(notified=True)
            ).rowcount == 1

    def cleanup(self, older_than: timedelta) -> int:
        """Forget ended jobs older than `older_than` and delete their stored uploads."""
        return self._forget(JobRow.state.in_(("done", "failed")), JobRow.finished_at < _now() - older_than)


class JobInterrupted(BaseException):
    """Raised inside a job when the process stops. A BaseException, so that a step's own
    `except Exception` (say, an embedding failure kept as a reason) cannot mistake it for a failure."""


JobListener = Callable[[JobView], Awaitable[None]]


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
        return _reaches(self.platforms, target)

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
            ended = await loop.run_in_executor(self._pool, self.queue.run, job, progress, self._interrupt)
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
