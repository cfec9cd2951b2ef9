"""One document into the knowledge base: parse, split, embed, write, then drop its stale chunks.

Chunk ids derive from (scope, source, content hash, chunking, position), so an unchanged document
is recognised from its hash before any parsing and writes nothing; a changed one is written in full
before its old chunks are removed, so a crash never leaves the source missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from haystack.dataclasses import Document

from bot.rag.knowledge_base import KnowledgeBase, source_filter
from bot.rag.parsing import (
    Limits,
    ParsedDocument,
    ParseError,
    UrlFetcher,
    check_size,
    kind_for,
    parse_bytes,
    parse_url,
)
from bot.rag.splitting import Chunking, split_words

# stage, done, total — e.g. ("reading", 40, 120) pages or ("embedding", 200, 318) chunks
ProgressFn = Callable[[str, int, int], None]


@dataclass
class IndexOutcome:
    source: str
    status: str  # indexed | unchanged | failed
    chunks: int = 0
    pages: int = 0
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)


def chunk_id(scope: str, source: str, content_hash: str, chunking: str, index: int) -> str:
    key = "\x00".join([scope, source, content_hash, chunking, str(index)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Indexer:
    def __init__(self, knowledge_base: KnowledgeBase, chunking: Chunking, limits: Limits,
                 fetcher: UrlFetcher | None = None) -> None:
        self.kb = knowledge_base
        self.split = chunking
        self.limits = limits
        # Open for the operator's own `kbot ingest`; `kbot run` passes a guarded one (chat users' URLs).
        self.fetcher = fetcher or UrlFetcher()
        self.chunking = chunking.name

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
        on_progress: ProgressFn | None = None,
    ) -> IndexOutcome:
        content_hash = hashlib.sha256(data).hexdigest()
        existing = self._existing(source, scope)
        if self._unchanged(existing, content_hash):
            return IndexOutcome(source, "unchanged")
        try:
            parsed = parse_bytes(data, kind, self.limits)
        except ParseError as exc:
            return IndexOutcome(source, "failed", reason=exc.reason)
        return self._store(parsed, content_hash, source, scope, uploader, existing, on_progress)

    def index_url(
        self, url: str, scope: str = "global", uploader: str | None = None, on_progress: ProgressFn | None = None
    ) -> IndexOutcome:
        try:
            parsed, data = parse_url(url, self.limits, self.fetcher)
        except ParseError as exc:
            return IndexOutcome(url, "failed", reason=exc.reason)
        content_hash = hashlib.sha256(data).hexdigest()
        existing = self._existing(url, scope)
        if self._unchanged(existing, content_hash):
            return IndexOutcome(url, "unchanged")
        return self._store(parsed, content_hash, url, scope, uploader, existing, on_progress)

    # -- steps ---------------------------------------------------------------------------------------

    def _existing(self, source: str, scope: str) -> dict[str, dict]:
        """The stored chunks of this source in this scope: id -> metadata."""
        return dict(self.kb.chunk_metadata(source_filter(source, [scope])))

    def _unchanged(self, existing: dict[str, dict], content_hash: str) -> bool:
        return bool(existing) and all(
            m.get("content_hash") == content_hash
            and m.get("chunking") == self.chunking
            and m.get("chunk_count") == len(existing)
            and m.get("embedded", True)
            for m in existing.values()
        )

    def _chunks(
        self, parsed: ParsedDocument, content_hash: str, source: str, scope: str, uploader: str | None
    ) -> list[Document]:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        pieces: list[tuple[str, int | None, str | None]] = []
        for section in parsed.sections:
            for text in split_words(section.text, self.split.words, self.split.overlap):
                pieces.append((text, section.page, section.heading))
        base = {
            "source": source,
            "scope": scope,
            "kind": parsed.kind,
            "title": parsed.title or Path(source).name,
            "content_hash": content_hash,
            "chunking": self.chunking,
            "chunk_count": len(pieces),
            "uploader": uploader,
            "indexed_at": now,
        }
        if parsed.url:
            base["url"] = parsed.url
        chunks = []
        for index, (text, page, heading) in enumerate(pieces):
            meta = {**base, "chunk_index": index}
            if page is not None:
                meta["page"] = page
            if heading:
                meta["heading"] = heading
            chunks.append(
                Document(id=chunk_id(scope, source, content_hash, self.chunking, index), content=text, meta=meta)
            )
        return chunks

    def _store(
        self, parsed: ParsedDocument, content_hash: str, source: str, scope: str, uploader: str | None,
        existing: dict[str, dict], on_progress: ProgressFn | None,
    ) -> IndexOutcome:
        report = on_progress or (lambda stage, done, total: None)
        pages = parsed.pages
        if pages:
            report("reading", pages, pages)
        chunks = self._chunks(parsed, content_hash, source, scope, uploader)
        if not chunks:
            return IndexOutcome(source, "failed", reason="no text to index", warnings=parsed.warnings)
        stale = set(existing) - {c.id for c in chunks}
        total = len(chunks)
        if self.kb.embedder is None:
            report("writing", 0, total)
            self.kb.write(chunks)
            self.kb.delete_ids(stale)
            report("writing", total, total)
            return IndexOutcome(source, "indexed", chunks=total, pages=pages, warnings=parsed.warnings)
        # Searchable by keyword at once; vectors follow. Until they land the chunks say
        # `embedded: False`, so an interrupted run is re-embedded next time, not taken as unchanged.
        report("writing", 0, total)
        self.kb.write([replace(c, meta={**c.meta, "embedded": False}) for c in chunks])
        self.kb.delete_ids(stale)
        report("embedding", 0, total)
        try:
            embedded = self.kb.embed(chunks, on_batch=lambda done: report("embedding", done, total))
        except Exception as exc:  # a model or embeddings-server failure: the text stays keyword-searchable
            reason = " ".join(str(exc).split())[:160] or exc.__class__.__name__
            return IndexOutcome(
                source, "failed", pages=pages, warnings=parsed.warnings,
                reason=f"embedding failed ({reason}); the text is searchable by keyword, ingest it again "
                "to add vectors",
            )
        self.kb.write([replace(c, meta={**c.meta, "embedded": True}) for c in embedded])
        report("writing", total, total)
        return IndexOutcome(source, "indexed", chunks=total, pages=pages, warnings=parsed.warnings)
