"""Durable indexing jobs in SQL: a row is the truth for each job (bot/jobs/runner.py decides when to
look, bot/jobs/execution.py runs one).

A job is claimed with a conditional UPDATE, so two processes never run the same one. A running job
beats its heartbeat; one whose heartbeat stops (the process died) is claimed again and re-run.
Indexing is idempotent (chunk ids come from the content), so a re-run never duplicates chunks, and
`take_notification` hands the completion message to exactly one process.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.jobs import JobView, ProgressTarget
from bot.core.shown import safe_name
from bot.rag.indexer import Indexer
from bot.state.db import JobRow, JobUploadRow, rows_changed

log = logging.getLogger("kbot.jobs")

IN_DATABASE = "job_uploads"  # JobRow.location of an upload kept in the database
FOLD_AFTER_ROWS = 5000  # while jobs wait, rows the full-text index may leave to a scan before a fold


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def job_view(row: JobRow) -> JobView:
    return JobView(row.id, row.source, row.scope, row.state, row.stage, row.done, row.total, row.chunks, row.pages,
                   row.attempts, row.error, ProgressTarget.from_json(row.target), _aware(row.created_at) or _now(),
                   _aware(row.started_at), _aware(row.finished_at), row.warnings, row.reused or 0)


def reaches(platforms: frozenset[str] | None, target: ProgressTarget | None) -> bool:
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
        # The name as people will see it, made safe once here (bot/core/shown.py): one line, 200 characters.
        return self._add(JobRow(kind="file", source=safe_name(Path(safe_name(filename)).name), scope=scope,
                                uploader=uploader,
                                location=IN_DATABASE, target=target.to_json() if target else {}), data)

    def enqueue_url(self, url: str, scope: str, uploader: str | None, target: ProgressTarget | None) -> int:
        return self._add(JobRow(kind="url", source=url, scope=scope, uploader=uploader, location=url,
                                target=target.to_json() if target else {}))

    def get(self, job_id: int) -> JobView | None:
        with Session(self.engine) as session:
            row = session.get(JobRow, job_id)
            return job_view(row) if row is not None else None

    def recent(self, scopes: set[str] | None = None, limit: int = 10) -> list[JobView]:
        with Session(self.engine) as session:
            query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
            if scopes is not None:
                query = query.where(JobRow.scope.in_(scopes))
            return [job_view(row) for row in session.scalars(query)]

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
                claimed = rows_changed(session.execute(
                    update(JobRow).where(JobRow.id == row.id, JobRow.attempts == row.attempts,
                                         JobRow.state == row.state)
                    .values(state="running", attempts=row.attempts + 1, heartbeat_at=_now(),
                            started_at=row.started_at or _now(), stage="starting", runner=self.runner,
                            runner_reports=reaches(platforms, ProgressTarget.from_json(row.target)),
                            shown=None)
                ))
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

    def end(self, job_id: int, **values: object) -> JobView:
        with Session(self.engine) as session, session.begin():
            session.execute(update(JobRow).where(JobRow.id == job_id).values(finished_at=_now(), **values))
        view = self.get(job_id)
        assert view is not None
        return view

    def origin(self, job_id: int) -> tuple[str, str, str | None]:
        """What the job indexes: its kind (file, url), where (a URL, or where the upload is), and who asked."""
        with Session(self.engine) as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise LookupError(f"job {job_id} is gone")
            return row.kind, row.location, row.uploader

    def upload(self, job_id: int, location: str) -> bytes:
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
            return [job_view(row) for row in rows]

    def steps_to_relay(self) -> list[JobView]:
        """Running jobs whose runner does not show their progress (`--role worker`)."""
        with Session(self.engine) as session:
            rows = session.scalars(select(JobRow).where(JobRow.state == "running",
                                                        JobRow.runner_reports.is_(False)))
            return [job_view(row) for row in rows]

    def take_step(self, view: JobView) -> bool:
        """True for exactly one caller per new step of a relayed job: that caller edits the progress."""
        step = f"{view.stage}:{view.done}:{view.total}"[:64]
        with Session(self.engine) as session, session.begin():
            return rows_changed(session.execute(
                update(JobRow).where(JobRow.id == view.id, JobRow.state == "running",
                                     or_(JobRow.shown.is_(None), JobRow.shown != step)).values(shown=step)
            )) == 1

    def take_notification(self, job_id: int) -> bool:
        """True for exactly one caller once the job has ended: that caller sends the completion message."""
        with Session(self.engine) as session, session.begin():
            return rows_changed(session.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.state.in_(("done", "failed")),
                                     JobRow.notified.is_(False)).values(notified=True)
            )) == 1

    def cleanup(self, older_than: timedelta) -> int:
        """Forget ended jobs older than `older_than` and delete their stored uploads."""
        return self._forget(JobRow.state.in_(("done", "failed")), JobRow.finished_at < _now() - older_than)
