"""One indexing job run to its end: its document indexed with progress reported, then the job
ended as done or failed with its reason. A stopping process interrupts it at its next step."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from bot.core.jobs import JobView
from bot.jobs.queue import FOLD_AFTER_ROWS, JobQueue
from bot.rag.indexer import IndexOutcome
from bot.rag.knowledge_base import source_filter
from bot.rag.parsing import kind_for

log = logging.getLogger("kbot.jobs")


class JobInterrupted(BaseException):
    """Raised inside a job when the process stops. A BaseException, so that a step's own
    `except Exception` (say, an embedding failure kept as a reason) cannot mistake it for a failure."""


def execute(queue: JobQueue, job: JobView, on_progress: Callable[[JobView], None] | None = None,
        interrupt: threading.Event | None = None) -> JobView | None:
    """Index the job's document; returns the ended job. Any failure ends it with a reason.

    With `interrupt` set (the process is stopping) the job stops at its next progress step and
    None is returned: the row stays running, and the next process takes it over when its
    heartbeat is stale. Chunks already written are kept; content ids make the re-run add none twice.
    """

    def progress(stage: str, done: int, total: int) -> None:
        if interrupt is not None and interrupt.is_set():
            raise JobInterrupted
        queue.progress(job.id, stage, done, total)
        if on_progress is not None:
            on_progress(replace(job, state="running", stage=stage, done=done, total=total))

    kind, location, uploader = queue.origin(job.id)
    try:
        if kind == "url":
            outcome = queue.indexer.index_url(location, job.scope, uploader, progress)
        else:
            data = queue.upload(job.id, location)
            outcome = queue.indexer.index_bytes(data, kind_for(job.source), job.source, job.scope, uploader,
                                               progress)
    except JobInterrupted:
        log.info("job %s stopped for shutdown; the next start resumes it", job.id)
        return None
    except Exception as exc:  # the job ends, the worker lives on
        log.exception("job %s failed", job.id)
        return queue.end(job.id, state="failed", error=f"indexing failed ({exc.__class__.__name__})")
    return _finish(queue, job, outcome)

def _fold_into_indexes(queue: JobQueue, job: JobView) -> None:
    """New rows are searchable at once, but by a scan beside the full-text index (a keyword query
    took 20 ms instead of 3 on a 700-chunk manual): fold them in, as `kbot ingest` does, once the
    queue is drained. Folding after every job of a bulk upload rewrote the table once per job, and
    several workers doing it at once mostly fought over commits (bench/scale.py)."""
    if queue.waiting() and queue.indexer.kb.unindexed_rows() < FOLD_AFTER_ROWS:
        return
    try:
        queue.indexer.kb.optimize()
    except Exception:  # the document is indexed either way; the next job or ingest folds it in
        log.warning("job %s: could not fold new chunks into the search indexes", job.id, exc_info=True)

def _finish(queue: JobQueue, job: JobView, outcome: IndexOutcome) -> JobView:
    if outcome.status == "failed":
        return queue.end(job.id, state="failed", error=outcome.reason or "unknown reason")
    chunks = outcome.chunks
    if outcome.status == "indexed":
        _fold_into_indexes(queue, job)
    if outcome.status == "unchanged":  # a re-run after a crash, or the same file again
        chunks = len(queue.indexer.kb.chunk_metadata(source_filter(job.source, [job.scope])))
    notes = "; ".join(outcome.warnings)[:500] or None
    return queue.end(job.id, state="done", stage="done", chunks=chunks, pages=outcome.pages, error=None,
                     warnings=notes, reused=outcome.reused)
