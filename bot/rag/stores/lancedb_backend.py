"""The embedded default: a LanceDB folder under data_dir, with a small JSON manifest beside it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, cast

from haystack.dataclasses import Document
from haystack.document_stores.types import DuplicatePolicy

from bot.rag.stores.base import Candidates, candidates_from_documents
from bot.rag.stores.lancedb import LanceDBDocumentStore
from bot.rag.stores.lancedb_retrievers import (
    LanceDBBM25Retriever,
    LanceDBEmbeddingRetriever,
    LanceDBHybridRetriever,
)

MANIFEST = "kbot-manifest.json"
DEFAULT_TABLE = "chunks"


class LanceDBBackend:
    kind = "lancedb"

    def __init__(self, path: Path, embedding_dim: int | None) -> None:
        self.path = path
        self._embedding_dim = embedding_dim
        self._store: LanceDBDocumentStore | None = None

    @property
    def document_store(self) -> LanceDBDocumentStore:
        if self._store is None:
            table = self.read_manifest().get("table", DEFAULT_TABLE)
            self._store = LanceDBDocumentStore(self.path, table_name=table, embedding_dim=self._embedding_dim)
            self._keyword = LanceDBBM25Retriever(document_store=self._store)
            self._vector = LanceDBEmbeddingRetriever(document_store=self._store)
            self._hybrid = LanceDBHybridRetriever(document_store=self._store)
        return self._store

    def keyword(self, query: str, filters: dict[str, Any], top_k: int) -> list[Document]:
        _ = self.document_store
        return self._keyword.run(query=query, filters=filters, top_k=top_k)["documents"]

    def vector(self, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]:
        _ = self.document_store
        return self._vector.run(query_embedding=embedding, filters=filters, top_k=top_k)["documents"]

    def hybrid(self, query: str, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]:
        _ = self.document_store
        return self._hybrid.run(query=query, query_embedding=embedding, filters=filters, top_k=top_k)["documents"]

    def candidates(self, query: str, embedding: list[float], filters: dict[str, Any], top_k: int) -> Candidates:
        found = self.document_store.hybrid_candidates(query, embedding, filters, top_k)
        return found if found is not None else candidates_from_documents(self, query, embedding, filters, top_k)

    def chunk_metadata(self, filters: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
        return self.document_store.chunk_metadata(filters)

    def read_manifest(self) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], json.loads((self.path / MANIFEST).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{MANIFEST}.{os.getpid()}"
        tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(tmp, self.path / MANIFEST)  # atomic: a crash leaves the old manifest or the new one

    def rebuild(self, documents: list[Document], embedding_dim: int | None) -> None:
        """Write everything to a fresh table, then switch the manifest to it and drop the old one."""
        old = self.document_store
        new_table = f"{DEFAULT_TABLE}_{int(time.time() * 1000)}"
        fresh = LanceDBDocumentStore(self.path, table_name=new_table, embedding_dim=embedding_dim)
        for start in range(0, len(documents), 1000):
            fresh.write_documents(documents[start : start + 1000], policy=DuplicatePolicy.OVERWRITE)
        fresh.optimize()
        manifest = self.read_manifest()
        self.write_manifest({**manifest, "table": new_table})
        self._store, self._embedding_dim = None, embedding_dim
        old.drop()

    def optimize(self) -> None:
        self.document_store.optimize()

    def unindexed_rows(self) -> int:
        return int(self.document_store.unindexed_rows())

    def warm_up(self) -> None:
        """The copy of the table in memory and its BM25 index: otherwise the first query reads the
        table and asks LanceDB's full-text index (tens of ms, cold), and the second starts the build."""
        self.document_store.build_keyword_index()

    def purge(self) -> None:
        self.document_store.purge()

    def describe(self) -> str:
        return f"lancedb at {self.path}"

    def close(self) -> None:
        self._store = None
