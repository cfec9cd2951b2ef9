"""Scoped retrieval and the relevance gate of the answer flow."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from haystack import component, default_to_dict
from haystack.dataclasses import Document

from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.relevance import is_relevant


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

    @component.output_types(documents=list[Document], best_similarity=float, agreement=bool, retrieval_s=float)
    def run(self, query: str, scopes: list[str], mode: str | None = None, top_k: int | None = None,
            candidates: int | None = None) -> dict[str, Any]:
        assert self.knowledge_base is not None, "ScopedRetriever needs the knowledge base (a pipeline resource)"
        started = time.monotonic()
        found = self.knowledge_base.retrieve(query, scopes, top_k or self.top_k, mode or self.mode, candidates)
        return {"documents": found.documents, "best_similarity": found.best_similarity,
                "agreement": found.agreement, "retrieval_s": time.monotonic() - started}


@component
class RelevanceGate:
    """Below `min_similarity` nothing retrieved counts as relevant, and no model is asked, unless
    `keyword_agreement` is on and the retriever says its keyword and vector rankings agree
    (`agreement`, see bot/rag/relevance.py); otherwise the best `keep` documents go on."""

    def __init__(self, min_similarity: float = 0.27, keep: int = 5, keyword_agreement: bool = True) -> None:
        self.min_similarity = min_similarity
        self.keep = keep
        self.keyword_agreement = keyword_agreement

    @component.output_types(documents=list[Document], relevant=bool)
    def run(self, documents: list[Document], best_similarity: float, keep: int | None = None,
            agreement: bool = False) -> dict[str, Any]:
        relevant = is_relevant(bool(documents), best_similarity, agreement, self.min_similarity,
                               self.keyword_agreement)
        return {"documents": documents[: keep or self.keep] if relevant else [], "relevant": relevant}

    @component.output_types(documents=list[Document], relevant=bool)
    async def run_async(self, documents: list[Document], best_similarity: float, keep: int | None = None,
                        agreement: bool = False) -> dict[str, Any]:
        return self.run(documents, best_similarity, keep, agreement)  # no I/O: no worker thread for it
