"""Haystack retriever components over LanceDBDocumentStore: keyword (BM25), vector, and hybrid."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document

from bot.rag.stores.filters import and_filters
from bot.rag.stores.lancedb import LanceDBDocumentStore


class _LanceDBRetriever:
    def __init__(
        self, *, document_store: LanceDBDocumentStore, filters: dict[str, Any] | None = None, top_k: int = 10
    ) -> None:
        if not isinstance(document_store, LanceDBDocumentStore):
            raise ValueError("document_store must be a LanceDBDocumentStore")
        self.document_store = document_store
        self.filters = filters
        self.top_k = top_k

    def _filters(self, runtime: dict[str, Any] | None) -> dict[str, Any] | None:
        # Init filters and run filters both apply (never one replacing the other): a scope filter
        # given at either point can't be dropped by the other.
        return and_filters(self.filters, runtime)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self, document_store=self.document_store.to_dict(), filters=self.filters, top_k=self.top_k
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        data["init_parameters"]["document_store"] = LanceDBDocumentStore.from_dict(
            data["init_parameters"]["document_store"]
        )
        return default_from_dict(cls, data)


@component
class LanceDBBM25Retriever(_LanceDBRetriever):
    """Full-text (BM25) retrieval."""

    @component.output_types(documents=list[Document])
    def run(
        self, query: str, filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        docs = self.document_store.bm25_retrieval(query, filters=self._filters(filters), top_k=top_k or self.top_k)
        return {"documents": docs}


@component
class LanceDBEmbeddingRetriever(_LanceDBRetriever):
    """Cosine-similarity vector retrieval."""

    @component.output_types(documents=list[Document])
    def run(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        docs = self.document_store.embedding_retrieval(
            query_embedding, filters=self._filters(filters), top_k=top_k or self.top_k
        )
        return {"documents": docs}


@component
class LanceDBHybridRetriever(_LanceDBRetriever):
    """BM25 and vector hits fused by reciprocal rank."""

    @component.output_types(documents=list[Document])
    def run(
        self,
        query: str,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
    ) -> dict[str, list[Document]]:
        docs = self.document_store.hybrid_retrieval(
            query, query_embedding, filters=self._filters(filters), top_k=top_k or self.top_k
        )
        return {"documents": docs}
