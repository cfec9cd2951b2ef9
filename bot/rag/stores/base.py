"""What kbot needs from a store backend, whichever database is behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from haystack.dataclasses import Document

from bot.rag.stores.fusion import Ranking


class StoreUnavailable(Exception):
    """The store cannot be reached or opened; the message is one line and names where."""


@dataclass
class Candidates:
    """Both rankings of one hybrid query, and how to get the documents of the few that win fusion
    (a store that can, builds only those)."""

    keyword: Ranking
    vector: Ranking
    fetch: Callable[[list[str]], dict[str, Document]]


def candidates_from_documents(backend: StoreBackend, query: str, embedding: list[float], filters: dict[str, Any],
                              top_k: int) -> Candidates:
    """`StoreBackend.candidates` for a store that returns whole documents from each search."""
    keyword = backend.keyword(query, filters, top_k)
    vector = backend.vector(embedding, filters, top_k)
    found = {d.id: d for d in [*keyword, *vector]}
    return Candidates([(d.id, float(d.score or 0.0)) for d in keyword], [(d.id, float(d.score or 0.0)) for d in vector],
                      lambda ids: {i: found[i] for i in ids if i in found})


class StoreBackend(Protocol):
    kind: str

    @property
    def document_store(self) -> Any: ...

    def keyword(self, query: str, filters: dict[str, Any], top_k: int) -> list[Document]: ...

    def vector(self, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]: ...

    def hybrid(self, query: str, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]: ...

    def candidates(self, query: str, embedding: list[float], filters: dict[str, Any], top_k: int) -> Candidates:
        """The keyword and vector rankings (top_k each) that KnowledgeBase fuses; vector scores are cosine."""
        ...

    def chunk_metadata(self, filters: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]: ...

    def read_manifest(self) -> dict[str, Any]: ...

    def write_manifest(self, manifest: dict[str, Any]) -> None: ...

    def rebuild(self, documents: list[Document], embedding_dim: int | None) -> None:
        """Replace every document at once (reindex); readers see the old set or the new one."""
        ...

    def optimize(self) -> None:
        """Fold rows written since the last time into the search indexes."""
        ...

    def unindexed_rows(self) -> int:
        """Rows written but not folded into the search indexes yet (searched by a slower scan)."""
        ...

    def warm_up(self) -> None:
        """Load now what the first query would load on its way (a running bot calls it at start)."""
        ...

    def purge(self) -> None:
        """After a delete: leave no copy of the deleted chunks on disk (old versions, compacted files)."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...
