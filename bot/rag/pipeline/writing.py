"""Embed and write, keyword first: a document is searchable by its words as soon as its text is stored,
and its vectors follow. Until they land its chunks say `embedded: False`, so an interrupted run is
embedded again next time rather than taken as unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from haystack import component, default_to_dict
from haystack.dataclasses import Document

from bot.rag.knowledge_base import KnowledgeBase

# stage, done, total: ("writing", 0, 318), ("embedding", 64, 318)
ProgressFn = Callable[[str, int, int], None]


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


class _NeedsKnowledgeBase:
    RESOURCES: ClassVar[tuple[str, ...]] = ("knowledge_base",)

    def __init__(self, knowledge_base: KnowledgeBase | None = None) -> None:
        self.knowledge_base = knowledge_base

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self)

    @property
    def kb(self) -> KnowledgeBase:
        assert self.knowledge_base is not None, f"{type(self).__name__} needs the knowledge base (a resource)"
        return self.knowledge_base


@component
class KeywordFirstWriter(_NeedsKnowledgeBase):
    """Writes the chunks (unembedded, where there is an embedder), then removes the source's chunks
    that are no longer part of it: the new version is whole before the old one goes. Writes nothing
    for a document without chunks."""

    @component.output_types(documents=list[Document], chunks=int)
    def run(self, documents: list[Document], stale_ids: list[str] | None = None,
            on_progress: ProgressFn | None = None) -> dict[str, Any]:
        report = on_progress or _quiet
        total = len(documents)
        if not documents:
            return {"documents": [], "chunks": 0}
        report("writing", 0, total)
        if self.kb.embedder is None:
            self.kb.write(documents)
        else:
            self.kb.write([replace(d, meta={**d.meta, "embedded": False}) for d in documents])
        self.kb.delete_ids(set(stale_ids or ()) - {d.id for d in documents})
        if self.kb.embedder is None:
            report("writing", total, total)
            return {"documents": [], "chunks": total}
        return {"documents": documents, "chunks": total}


@component
class ChunkEmbedder(_NeedsKnowledgeBase):
    """The knowledge base's embedder, in batches, reporting each; a failing model leaves the chunks
    keyword-searchable and says why in `embedding_error`."""

    @component.output_types(documents=list[Document], embedding_error=str)
    def run(self, documents: list[Document], on_progress: ProgressFn | None = None) -> dict[str, Any]:
        report = on_progress or _quiet
        if not documents:
            return {"documents": [], "embedding_error": ""}
        total = len(documents)
        report("embedding", 0, total)
        try:
            embedded = self.kb.embed(documents, on_batch=lambda done: report("embedding", done, total))
        except Exception as exc:  # a model or embeddings-server failure
            reason = " ".join(str(exc).split())[:160] or exc.__class__.__name__
            return {"documents": [], "embedding_error": reason}
        return {"documents": embedded, "embedding_error": ""}


@component
class EmbeddedWriter(_NeedsKnowledgeBase):
    """The vectors, and `embedded: True`, over the keyword-first chunks."""

    @component.output_types(written=int)
    def run(self, documents: list[Document], on_progress: ProgressFn | None = None) -> dict[str, int]:
        if not documents:
            return {"written": 0}
        self.kb.write([replace(d, meta={**d.meta, "embedded": True}) for d in documents])
        (on_progress or _quiet)("writing", len(documents), len(documents))
        return {"written": len(documents)}
