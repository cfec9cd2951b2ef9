"""Embed and write, keyword first: a document is searchable by its words as soon as its text is stored,
and its vectors follow. Until they land its chunks say `embedded: False`, so an interrupted run is
embedded again next time rather than taken as unchanged. A chunk whose text the previous version of
the document already had keeps that version's vector (bot/rag/vector_reuse.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from haystack import component, default_to_dict
from haystack.dataclasses import Document

from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.vector_reuse import carry_over, previous_vectors, unique_texts

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
    """Writes the chunks (unembedded, where there is an embedder, except those that keep a vector of
    the previous version), then removes the source's chunks that are no longer part of it: the new
    version is whole before the old one goes. Writes nothing for a document without chunks. Passes on
    only the chunks still to embed; `reused` counts the others."""

    @component.output_types(documents=list[Document], chunks=int, reused=int)
    def run(self, documents: list[Document], stale_ids: list[str] | None = None,
            on_progress: ProgressFn | None = None) -> dict[str, Any]:
        report = on_progress or _quiet
        total = len(documents)
        if not documents:
            return {"documents": [], "chunks": 0, "reused": 0}
        report("writing", 0, total)
        stale = set(stale_ids or ())
        if self.kb.embedder is None:
            self.kb.write(documents)
            self.kb.delete_ids(stale - {d.id for d in documents})
            report("writing", total, total)
            return {"documents": [], "chunks": total, "reused": 0}
        carried: list[Document] = []
        fresh = documents
        if stale:
            first = documents[0].meta
            previous = self.kb.stored_chunks(str(first.get("source")), str(first.get("scope")), stale)
            carried, fresh = carry_over(documents, previous_vectors(previous), self.kb.fingerprint.dim or None)
        self.kb.write([*(replace(d, meta={**d.meta, "embedded": True}) for d in carried),
                       *(replace(d, meta={**d.meta, "embedded": False}) for d in fresh)])
        self.kb.delete_ids(stale - {d.id for d in documents})
        if not fresh:  # every vector was kept: nothing more will be written
            report("writing", total, total)
        return {"documents": fresh, "chunks": total, "reused": len(carried)}


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
        unique, positions = unique_texts(documents)
        report("embedding", 0, total)
        try:
            # Progress counts chunks, duplicates included: they are done when their first copy is.
            embedded = self.kb.embed(unique, on_batch=lambda done: report(
                "embedding", total if done == len(unique) else done, total))
        except Exception as exc:  # a model or embeddings-server failure
            reason = " ".join(str(exc).split())[:160] or exc.__class__.__name__
            return {"documents": [], "embedding_error": reason}
        vectors = [embedded[position].embedding for position in positions]
        return {"documents": [replace(d, embedding=v) for d, v in zip(documents, vectors, strict=True)],
                "embedding_error": ""}


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
