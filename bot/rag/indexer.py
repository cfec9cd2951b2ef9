"""One document into the knowledge base: recognise it unchanged, else run the indexing pipeline
(convert → clean → split → write keyword-first → embed → write vectors, bot/rag/pipeline/indexing_pipeline.py).

Chunk ids derive from (scope, source, content hash, chunking, position), so an unchanged document
is recognised from its hash before any parsing and writes nothing; a changed one is written in full
before its old chunks are removed, so a crash never leaves the source missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haystack import Pipeline
from haystack.core.errors import PipelineRuntimeError

from bot.rag.knowledge_base import KnowledgeBase, source_filter
from bot.rag.parsing import Limits, ParseError, UrlFetcher, check_size, fetch_url, kind_for
from bot.rag.pipeline.contract import raised_within
from bot.rag.pipeline.indexing_pipeline import check_indexing_pipeline, default_indexing_pipeline
from bot.rag.pipeline.splitter import chunk_id
from bot.rag.splitting import Chunking

# stage, done, total — e.g. ("reading", 40, 120) pages or ("embedding", 200, 318) chunks
ProgressFn = Callable[[str, int, int], None]

__all__ = ["IndexOutcome", "Indexer", "ProgressFn", "chunk_id"]


@dataclass
class IndexOutcome:
    source: str
    status: str  # indexed | unchanged | failed
    chunks: int = 0
    pages: int = 0
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    reused: int = 0  # chunks whose text the previous version had: its vectors were kept, not recomputed


class Indexer:
    def __init__(self, knowledge_base: KnowledgeBase, chunking: Chunking, limits: Limits,
                 fetcher: UrlFetcher | None = None, pipeline: Pipeline | None = None) -> None:
        self.kb = knowledge_base
        self.split = chunking
        self.limits = limits
        # Open for the operator's own `kbot ingest`; `kbot run` passes a guarded one (chat users' URLs).
        self.fetcher = fetcher or UrlFetcher()
        self.chunking = chunking.name
        self.pipeline = pipeline or default_indexing_pipeline(knowledge_base, chunking, limits)
        self._outputs = check_indexing_pipeline(self.pipeline)
        self._accepted = {socket for sockets in self.pipeline.inputs().values() for socket in sockets}

    # -- entry points ------------------------------------------------------------------------------

    def index_path(
        self, path: Path, source: str, scope: str = "global", uploader: str | None = None,
        on_progress: ProgressFn | None = None,
    ) -> IndexOutcome:
        try:
            kind = kind_for(path.name)
            check_size(path.stat().st_size, self.limits)
            data = path.read_bytes()
        except ParseError as exc:
            return IndexOutcome(source, "failed", reason=exc.reason)
        except OSError as exc:
            return IndexOutcome(source, "failed", reason=f"cannot read the file ({exc.strerror or exc})")
        return self.index_bytes(data, kind, source, scope, uploader, on_progress)

    def index_bytes(
        self, data: bytes, kind: str, source: str, scope: str = "global", uploader: str | None = None,
        on_progress: ProgressFn | None = None, url: str | None = None,
    ) -> IndexOutcome:
        content_hash = hashlib.sha256(data).hexdigest()
        existing = self._existing(source, scope)
        if self._unchanged(existing, content_hash):
            return IndexOutcome(source, "unchanged")
        try:
            check_size(len(data), self.limits)
        except ParseError as exc:
            return IndexOutcome(source, "failed", reason=exc.reason)
        inputs = {"data": data, "kind": kind, "url": url, "content_hash": content_hash, "source": source,
                  "scope": scope, "uploader": uploader, "stale_ids": sorted(existing), "on_progress": on_progress}
        return self._run(inputs, source)

    def index_url(
        self, url: str, scope: str = "global", uploader: str | None = None, on_progress: ProgressFn | None = None
    ) -> IndexOutcome:
        try:
            fetched, kind = fetch_url(url, self.limits, self.fetcher)
        except ParseError as exc:
            return IndexOutcome(url, "failed", reason=exc.reason)
        return self.index_bytes(fetched.data, kind, url, scope, uploader, on_progress, url=fetched.url)

    # -- steps ---------------------------------------------------------------------------------------

    def _existing(self, source: str, scope: str) -> dict[str, dict[str, Any]]:
        """The stored chunks of this source in this scope: id -> metadata."""
        return dict(self.kb.chunk_metadata(source_filter(source, [scope])))

    def _unchanged(self, existing: dict[str, dict[str, Any]], content_hash: str) -> bool:
        return bool(existing) and all(
            m.get("content_hash") == content_hash
            and m.get("chunking") == self.chunking
            and m.get("chunk_count") == len(existing)
            and m.get("embedded", True)
            for m in existing.values()
        )

    def _run(self, inputs: dict[str, Any], source: str) -> IndexOutcome:
        try:
            result = self.pipeline.run({k: v for k, v in inputs.items() if k in self._accepted},
                                       include_outputs_from=set(self._outputs.values()))
        except PipelineRuntimeError as exc:
            error = raised_within(exc, ParseError)
            if error is not None:
                return IndexOutcome(source, "failed", reason=error.reason)
            if isinstance(exc.__cause__, Exception):  # e.g. EmbedderMismatch, a store error: as before
                raise exc.__cause__ from None
            raise

        out = {name: result.get(component, {}).get(name) for name, component in self._outputs.items()}
        if out.get("failed"):
            return IndexOutcome(source, "failed", reason=str(out["failed"]))
        pages, warnings = int(out.get("pages") or 0), list(out.get("warnings") or [])
        chunks = int(out.get("chunks") or 0)
        if not chunks:
            return IndexOutcome(source, "failed", reason="no text to index", warnings=warnings)
        if out.get("embedding_error"):
            return IndexOutcome(
                source, "failed", pages=pages, warnings=warnings,
                reason=f"embedding failed ({out['embedding_error']}); the text is searchable by keyword, ingest it "
                "again to add vectors",
            )
        return IndexOutcome(source, "indexed", chunks=chunks, pages=pages, warnings=warnings,
                            reused=int(out.get("reused") or 0))
