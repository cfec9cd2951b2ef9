"""Split: sections into chunks with content-derived ids, so an unchanged document writes nothing and a
re-indexed one overwrites its own chunks in place."""

from __future__ import annotations

import bisect
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from haystack import component, default_to_dict
from haystack.dataclasses import Document

from bot.core.shown import safe_name
from bot.rag.definitions import command_entries
from bot.rag.parsing import ParsedDocument, Section
from bot.rag.pipeline.writers import ProgressFn
from bot.rag.splitting import Chunking, split_passages


def chunk_id(scope: str, source: str, content_hash: str, chunking: str, index: int) -> str:
    key = "\x00".join([scope, source, content_hash, chunking, str(index)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@component
class ChunkSplitter:
    """Passages of whole sentences (`knowledge.chunk_words`, `knowledge.chunk_overlap_words`) that never
    cross a section boundary, each keeping its heading path and the pages it spans, and the bookkeeping
    the indexer compares next time (hash, chunking, count)."""

    RESOURCES: ClassVar[tuple[str, ...]] = ("chunking",)

    def __init__(self, chunking: Chunking | None = None) -> None:
        self.chunking = chunking or Chunking()

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self)

    def _pieces(self, section: Section, find_commands: bool) -> list[tuple[str, int | None, int | None, str | None]]:
        """(text, first page, last page, heading path) of each passage. In a PDF a passage may end early
        where a command's entry begins (see definitions.py), and one inside an entry has the command's
        name at the end of its heading path."""
        entries = command_entries(section.text) if find_commands else []
        starts = [entry.offset for entry in entries]
        pieces = []
        for start, end in split_passages(section.text, self.chunking.words, self.chunking.overlap, starts):
            heading = section.heading
            within = bisect.bisect_right(starts, start) - 1
            if within >= 0:
                name = entries[within].name
                heading = f"{heading} › {name}" if heading else name
            pieces.append((section.text[start:end], section.page_at(start), section.page_at(end - 1), heading))
        return pieces

    @component.output_types(documents=list[Document], pages=int, warnings=list[str])
    def run(self, parsed: ParsedDocument, content_hash: str, source: str, scope: str,
            uploader: str | None = None, on_progress: ProgressFn | None = None) -> dict[str, Any]:
        if parsed.pages and on_progress is not None:
            on_progress("reading", parsed.pages, parsed.pages)
        name = self.chunking.name
        pieces = [piece for section in parsed.sections for piece in self._pieces(section, parsed.kind == "pdf")]
        title = safe_name(parsed.title or Path(source).name)
        base = {"source": source, "scope": scope, "kind": parsed.kind, "title": title,
                "content_hash": content_hash, "chunking": name, "chunk_count": len(pieces), "uploader": uploader,
                "indexed_at": datetime.now(UTC).isoformat(timespec="seconds")}
        if parsed.url:
            base["url"] = parsed.url
        documents = []
        for index, (text, page, page_end, heading) in enumerate(pieces):
            meta = {**base, "chunk_index": index}
            if page is not None:
                meta["page"] = page
            if page_end is not None and page is not None and page_end > page:
                meta["page_end"] = page_end
            if heading:
                meta["heading"] = heading
            documents.append(Document(id=chunk_id(scope, source, content_hash, name, index), content=text, meta=meta))
        return {"documents": documents, "pages": parsed.pages, "warnings": list(parsed.warnings)}
