"""What kbot needs from a store backend, whichever database is behind it."""

from __future__ import annotations

from typing import Any, Protocol

from haystack.dataclasses import Document


class StoreUnavailable(Exception):
    """The store cannot be reached or opened; the message is one line and names where."""


class StoreBackend(Protocol):
    kind: str

    @property
    def document_store(self) -> Any: ...

    def keyword(self, query: str, filters: dict[str, Any], top_k: int) -> list[Document]: ...

    def vector(self, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]: ...

    def hybrid(self, query: str, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]: ...

    def chunk_metadata(self, filters: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]: ...

    def read_manifest(self) -> dict[str, Any]: ...

    def write_manifest(self, manifest: dict[str, Any]) -> None: ...

    def rebuild(self, documents: list[Document], embedding_dim: int | None) -> None:
        """Replace every document at once (reindex); readers see the old set or the new one."""
        ...

    def optimize(self) -> None: ...

    def purge(self) -> None:
        """After a delete: leave no copy of the deleted chunks on disk (old versions, compacted files)."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...
