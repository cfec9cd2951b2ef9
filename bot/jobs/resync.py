"""Keep indexed sources fresh: `knowledge.paths` and every URL added from chat, re-read on an interval.

Unchanged documents are recognised by their hash and cost one read each; changed ones are replaced
in full; new files under `knowledge.paths` are added.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.scopes import GLOBAL
from bot.jobs.queue import JobQueue
from bot.rag.indexer import Indexer
from bot.rag.knowledge_base import source_filter
from bot.rag.sources import expand
from bot.state.db import JobRow

log = logging.getLogger("kbot.resync")


class Resync:
    def __init__(self, indexer: Indexer, queue: JobQueue, paths: list[Path], root: Path) -> None:
        self.indexer = indexer
        self.queue = queue
        self.paths = paths
        self.root = root

    def added_urls(self) -> list[tuple[str, str, str | None]]:
        """(url, scope, uploader) of every web page added from chat that is still indexed."""
        with Session(self.queue.engine) as session:
            rows = session.execute(select(JobRow.location, JobRow.scope, JobRow.uploader)
                                   .where(JobRow.kind == "url", JobRow.state == "done")).all()
        return sorted({(str(url), str(scope), uploader) for url, scope, uploader in rows})

    def __call__(self) -> dict[str, int]:
        """One pass (blocking: it runs on the indexing threads); counts of outcomes by status."""
        counts: dict[str, int] = {}
        targets, _ = expand([str(p) for p in self.paths if p.exists()], self.root)
        for target in targets:
            try:
                if target.url:
                    outcome = self.indexer.index_url(target.url, GLOBAL)
                else:
                    assert target.path is not None
                    outcome = self.indexer.index_path(target.path, target.source, GLOBAL)
            except Exception:
                log.exception("re-sync of %s failed", target.source)
                continue
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        for url, scope, uploader in self.added_urls():
            if not self.indexer.kb.chunk_metadata(source_filter(url, [scope])):
                continue  # deleted since: not brought back
            outcome = self.indexer.index_url(url, scope, uploader)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        if counts.get("indexed") or counts.get("failed"):
            log.info("re-sync: %s", ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
        return counts
