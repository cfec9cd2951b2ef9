"""Scoped retrieval and the relevance gate of the answer flow."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from haystack import component, default_to_dict
from haystack.dataclasses import Document

from bot.rag.knowledge_base import KnowledgeBase


@component
class ScopedRetriever:
    """Keyword, vector or hybrid retrieval over the asker's scopes only (the store enforces them);
    every document says why it was found (`meta["_why"]`)."""

    RESOURCES: ClassVar[tuple[str, ...]] = ("knowledge_base",)

    def __init__(self, knowledge_base: KnowledgeBase | None = None, mode: str | None = None, top_k: int = 5) -> None:
        self.knowledge_base = knowledge_base
        self.mode = mode  # None: the knowledge base's configured mode
        self.top_k = top_k

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, mode=self.mode, top_k=self.top_k)

    @component.output_types(documents=list[Document], best_similarity=float, retrieval_s=float)
    def run(self, query: str, scopes: list[str], mode: str | None = None, top_k: int | None = None,
            candidates: int | None = None) -> dict[str, Any]:
        assert self.knowledge_base is not None, "ScopedRetriever needs the knowledge base (a pipeline resource)"
        started = time.monotonic()
        found = self.knowledge_base.retrieve(query, scopes, top_k or self.top_k, mode or self.mode, candidates)
        return {"documents": found.documents, "best_similarity": found.best_similarity,
                "retrieval_s": time.monotonic() - started}


@component
class RelevanceGate:
    """Below `min_similarity` nothing retrieved counts as relevant, and no model is asked; otherwise
    the best `keep` documents go on."""

    def __init__(self, min_similarity: float = 0.27, keep: int = 5) -> None:
        self.min_similarity = min_similarity
        self.keep = keep

    @component.output_types(documents=list[Document], relevant=bool)
    def run(self, documents: list[Document], best_similarity: float, keep: int | None = None) -> dict[str, Any]:
        relevant = bool(documents) and best_similarity >= self.min_similarity
        return {"documents": documents[: keep or self.keep] if relevant else [], "relevant": relevant}

    @component.output_types(documents=list[Document], relevant=bool)
    async def run_async(self, documents: list[Document], best_similarity: float,
                        keep: int | None = None) -> dict[str, Any]:
        return self.run(documents, best_similarity, keep)  # no I/O: no worker thread for it
