"""Queries and documents through two embedders under one fingerprint."""

from __future__ import annotations

from collections.abc import Callable

from haystack.dataclasses import Document

from bot.rag.embedding.contract import Embedder


class SplitEmbedder:
    """Queries through one embedder, documents through another, under one fingerprint: both compute the
    same vectors. The one for documents (ONNX Runtime with every core, or torch) is built only when a
    document is embedded, so asking a question never imports torch; the one for queries has a session
    of its own, so a question asked while documents index does not wait behind their batches."""

    def __init__(self, queries: Embedder, documents: Callable[[], Embedder]) -> None:
        self.fingerprint = queries.fingerprint
        self._queries = queries
        self._make_documents = documents
        self._documents: Embedder | None = None

    def _document_side(self) -> Embedder:
        if self._documents is None:
            self._documents = self._make_documents()
        return self._documents

    def warm_up(self) -> None:
        """Load both sides now (benchmarks and tests); without it the document side loads with the first
        document and the query side with the first question."""
        for side in (self._queries, self._document_side()):
            side.warm_up()

    def warm_up_queries(self) -> None:
        """The query side only: a chat process that never indexes never loads the document side."""
        self._queries.warm_up_queries()

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        if not documents:
            return []
        return self._document_side().embed_documents(documents)

    def embed_query(self, text: str) -> list[float]:
        return self._queries.embed_query(text)
