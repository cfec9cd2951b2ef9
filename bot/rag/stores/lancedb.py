"""A Haystack document store over embedded LanceDB, with BM25, vector and hybrid retrieval.

Metadata is kept whole as JSON (any shape round-trips); `scope` and `source` are also promoted to
columns so the filters on every query (scope) and on replace/delete (source) run inside LanceDB.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
from haystack import default_from_dict, default_to_dict
from haystack.dataclasses import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.utils.filters import document_matches_filter

from bot.rag.stores.base import Candidates
from bot.rag.stores.chunk_cache import ChunkCache
from bot.rag.stores.commit_retry import retry_conflicts
from bot.rag.stores.filters import split_filters, sql_literal, validate_filters
from bot.rag.stores.fusion import RRF_K, rank_fusion
from bot.rag.stores.lancedb_memory import Background, MemoryCopy, daemon_thread
from bot.rag.stores.lancedb_rows import PROMOTED, batches, columns, to_document, to_row
from bot.rag.stores.lancedb_table import FOLD_EVERY_COMMITS, LanceTable


class LanceDBDocumentStore:
    """Documents in one LanceDB table on disk (lancedb_table.py), searched from a copy in memory where
    the table is small enough (lancedb_memory.py); opened lazily so construction stays cheap."""

    def __init__(
        self,
        path: str | Path,
        table_name: str = "chunks",
        embedding_dim: int | None = None,
        cache_rows: int = 300_000,
        keyword_rows: int = 50_000,
        fold_every_commits: int = FOLD_EVERY_COMMITS,
        background: Background | None = None,
    ) -> None:
        self.table = LanceTable(path, table_name, embedding_dim, fold_every_commits)
        self.memory = MemoryCopy(self.table, cache_rows, keyword_rows, background or daemon_thread)

    @property
    def path(self) -> str:
        return self.table.path

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def embedding_dim(self) -> int | None:
        return self.table.embedding_dim

    def open_table(self) -> Any:
        """The LanceDB table, or None before the first write."""
        return self.table.open()

    def unindexed_rows(self) -> int:
        return self.table.unindexed_rows()

    def optimize(self) -> None:
        self.table.optimize()

    def purge(self) -> None:
        self.table.purge()

    def drop(self) -> None:
        """Delete the table and its copy in memory."""
        self.table.drop()
        self.memory.forget()

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            path=self.path,
            table_name=self.table_name,
            embedding_dim=self.embedding_dim,
            cache_rows=self.memory.cache_rows,
            keyword_rows=self.memory.keyword_rows,
            fold_every_commits=self.table.fold_every_commits,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LanceDBDocumentStore:
        return default_from_dict(cls, data)

    def _columns(self, with_embedding: bool) -> list[str]:
        return columns(self.embedding_dim, with_embedding)

    def _scan(self, where: str | None, names: list[str]) -> list[dict[str, Any]]:
        table = self.table.open()
        if table is None:
            return []
        total = table.count_rows()
        if not total:
            return []
        query = table.search().select(names).limit(total)
        if where:
            query = query.where(where)
        rows: list[dict[str, Any]] = query.to_arrow().to_pylist()
        return rows

    # -- the DocumentStore protocol ---------------------------------------------------------------

    def count_documents(self) -> int:
        table = self.table.open()
        return table.count_rows() if table is not None else 0

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        validate_filters(filters)
        sql, residual = split_filters(filters, PROMOTED)
        docs = [to_document(r) for r in self._scan(sql, self._columns(with_embedding=True))]
        if residual is not None:
            docs = [d for d in docs if document_matches_filter(residual, d)]
        return docs

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE) -> int:
        if not isinstance(documents, list) or not all(isinstance(d, Document) for d in documents):
            raise ValueError("write_documents expects a list of Document objects")
        if not documents:
            return 0
        if policy == DuplicatePolicy.NONE:
            policy = DuplicatePolicy.FAIL
        latest: dict[str, Document] = {}
        for doc in documents:
            latest[doc.id] = doc  # the last of several same-id documents in one batch wins
        with self.table.lock:
            table = self.table.open(create=True)
            self.table.refuse_dim_conflict()
            existing = self._existing_ids(list(latest))
            if policy == DuplicatePolicy.FAIL and existing:
                raise DuplicateDocumentError(f"documents with ids {sorted(existing)[:5]} already exist")
            if policy == DuplicatePolicy.SKIP:
                latest = {k: v for k, v in latest.items() if k not in existing}
            if not latest:
                return 0
            rows = [to_row(d, self.embedding_dim) for d in latest.values()]
            data = pa.Table.from_pylist(rows, schema=table.schema)
            if existing:
                retry_conflicts(lambda: table.merge_insert("id").when_matched_update_all()
                                .when_not_matched_insert_all().execute(data), "write")
            else:
                retry_conflicts(lambda: table.add(data), "write")
            self.table.ensure_indexes(table)
            self.table.wrote()
        self.table.fold_if_due()
        return len(rows)

    def delete_documents(self, document_ids: list[str]) -> None:
        table = self.table.open()
        if table is None or not document_ids:
            return
        parts = list(batches(document_ids, 500))
        for batch in parts:
            where = f"id IN ({', '.join(sql_literal(i) for i in batch)})"
            retry_conflicts(functools.partial(table.delete, where), "delete")
        self.table.wrote(len(parts))
        self.table.fold_if_due()

    # -- the extended protocol --------------------------------------------------------------------

    def delete_all_documents(self, recreate_index: bool = False) -> None:
        with self.table.lock:
            table = self.table.open()
            if table is None:
                return
            if recreate_index:
                self.drop()
            else:
                table.delete("TRUE")
                self.table.wrote()

    def _matching_ids(self, filters: dict[str, Any] | None) -> list[str]:
        validate_filters(filters)
        sql, residual = split_filters(filters, PROMOTED)
        if residual is None:
            return [r["id"] for r in self._scan(sql, ["id"])]
        return [d.id for d in self.filter_documents(filters)]

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        with self.table.lock:
            ids = self._matching_ids(filters)
            self.delete_documents(ids)
            return len(ids)

    def update_by_filter(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        with self.table.lock:
            docs = [replace(d, meta={**d.meta, **meta}) for d in self.filter_documents(filters)]
            if docs:
                self.write_documents(docs, policy=DuplicatePolicy.OVERWRITE)
            return len(docs)

    def chunk_metadata(self, filters: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(id, meta) of matching documents, without reading their text or vectors."""
        validate_filters(filters)
        sql, residual = split_filters(filters, PROMOTED)
        if residual is not None:
            return [(d.id, d.meta) for d in self.filter_documents(filters)]
        return [(r["id"], json.loads(r["meta"] or "{}")) for r in self._scan(sql, ["id", "meta"])]

    def count_documents_by_filter(self, filters: dict[str, Any]) -> int:
        return len(self._matching_ids(filters))

    def _existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for batch in batches(ids, 500):
            rows = self._scan(f"id IN ({', '.join(sql_literal(i) for i in batch)})", ["id"])
            found.update(r["id"] for r in rows)
        return found

    # -- retrieval ----------------------------------------------------------------------------------

    # -- retrieval ----------------------------------------------------------------------------------

    def _prefilter(self, filters: dict[str, Any] | None) -> tuple[bool, str | None]:
        """(anything can match, SQL prefilter); residual Python filters become an id list."""
        validate_filters(filters)
        sql, residual = split_filters(filters, PROMOTED)
        if residual is None:
            return True, sql
        ids = [d.id for d in self.filter_documents(filters)]
        if not ids:
            return False, None
        return True, f"id IN ({', '.join(sql_literal(i) for i in ids)})"

    @property
    def copy_in_memory(self) -> bool:
        """Whether queries are answered from the copy in memory (not while it reloads after a change)."""
        return self.memory.cache is not None and not self.memory.refreshing

    @property
    def keyword_from_memory(self) -> bool:
        """Whether keyword queries on the copy in memory are answered by its BM25 index yet."""
        cache = self.memory.cache
        return cache is not None and cache.keyword is not None

    def build_keyword_index(self) -> bool:
        """Build the in-memory BM25 index for the current table version now (benchmarks and tests);
        False where the table is too large for it or not searched from memory."""
        return self.memory.build_keyword_now(self.table.open())

    def _keyword_ids(
        self, table: Any, cache: ChunkCache, scopes: list[str] | None, query: str, where: str | None, top_k: int
    ) -> list[tuple[str, float]]:
        """(id, BM25 score) best first: from memory when the index is there, else from LanceDB."""
        if self.memory.keyword_ready(cache):
            return [(h.doc_id, h.score) for h in cache.keyword_search(query, scopes, top_k)]
        return [(r["id"], float(r["_score"])) for r in self._fts(table, query, where, top_k, ["id"])]

    def _fts(self, table: Any, query: str, where: str | None, top_k: int, columns: list[str]) -> list[dict[str, Any]]:
        self.table.ensure_indexes(table)
        search = table.search(query, query_type="fts", fts_columns="content").limit(top_k)
        search = search.select([*columns, "_score"])
        if where:
            search = search.where(where, prefilter=True)
        return cast(list[dict[str, Any]], search.to_arrow().to_pylist())

    def bm25_retrieval(
        self, query: str, filters: dict[str, Any] | None = None, top_k: int = 10
    ) -> list[Document]:
        table = self.table.open()
        if table is None or not query.strip():
            return []
        possible, where = self._prefilter(filters)
        if not possible:
            return []
        cache, scopes = self.memory.for_query(table, filters)
        if cache is None:
            rows = self._fts(table, query, where, top_k, self._columns(with_embedding=False))
            return [to_document(r, score=float(r["_score"])) for r in rows]
        found = self._keyword_ids(table, cache, scopes, query, where, top_k)
        return [d for doc_id, score in found if (d := cache.document(doc_id, score)) is not None]

    def embedding_retrieval(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int = 10
    ) -> list[Document]:
        table = self.table.open()
        self.table.refuse_dim_conflict()
        if table is None or not self.embedding_dim:
            return []
        if len(query_embedding) != self.embedding_dim:
            raise ValueError(
                f"query embedding has {len(query_embedding)} dimensions; the store holds {self.embedding_dim}"
            )
        validate_filters(filters)
        cache, scopes = self.memory.for_query(table, filters)
        if cache is not None:
            hits = cache.search(query_embedding, scopes, top_k)
            return [d for h in hits if (d := cache.document(h.doc_id, h.score)) is not None]
        possible, where = self._prefilter(filters)
        if not possible:
            return []
        where = f"has_embedding AND ({where})" if where else "has_embedding"
        search = (
            table.search(query_embedding, vector_column_name="embedding")
            .distance_type("cosine")
            .where(where, prefilter=True)
            .select([*self._columns(with_embedding=False), "_distance"])
            .limit(top_k)
        )
        return [
            to_document(r, score=1.0 - float(r["_distance"])) for r in search.to_arrow().to_pylist()
        ]

    def hybrid_candidates(
        self, query: str, query_embedding: list[float], filters: dict[str, Any] | None, top_k: int
    ) -> Candidates | None:
        """Both rankings from the in-memory copy, documents built only for the ids asked for; None when
        this query cannot be answered from memory."""
        table = self.table.open()
        self.table.refuse_dim_conflict()
        if table is None or not self.embedding_dim or len(query_embedding) != self.embedding_dim:
            return None
        cache, scopes = self.memory.for_query(table, filters)  # reads only the scopes; _prefilter validates
        if cache is None:
            return None
        possible, where = self._prefilter(filters)
        if not possible:
            return Candidates([], [], lambda ids: {})
        keyword = self._keyword_ids(table, cache, scopes, query, where, top_k) if query.strip() else []
        vector = [(h.doc_id, h.score) for h in cache.search(query_embedding, scopes, top_k)]
        return Candidates(keyword, vector,
                          lambda ids: {i: d for i in ids if (d := cache.document(i, None)) is not None})

    def hybrid_retrieval(
        self,
        query: str,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        candidates: int | None = None,
    ) -> list[Document]:
        """Reciprocal rank fusion of BM25 and vector hits; score 1.0 means first in both lists."""
        pool = candidates or max(top_k * 4, 20)
        table = self.table.open()
        cache, scopes = self.memory.for_query(table, filters)
        if cache is None:
            by_keyword = self.bm25_retrieval(query, filters=filters, top_k=pool)
            by_vector = self.embedding_retrieval(query_embedding, filters=filters, top_k=pool)
            return fuse_rankings([by_keyword, by_vector], top_k=top_k)
        # Rank by ids from both legs, then build only the winners from memory.
        possible, where = self._prefilter(filters)
        if not possible:
            return []
        keyword = self._keyword_ids(table, cache, scopes, query, where, pool) if query.strip() else []
        keyword_ids = [doc_id for doc_id, _ in keyword]
        vector_ids = [h.doc_id for h in cache.search(query_embedding, scopes, pool)]
        fused = rank_fusion([keyword_ids, vector_ids], top_k)
        return [d for doc_id, score in fused.items() if (d := cache.document(doc_id, score)) is not None]


def fuse_rankings(rankings: Iterable[list[Document]], top_k: int, k: int = RRF_K) -> list[Document]:
    """`rank_fusion` over lists of documents."""
    lists = list(rankings)
    docs = {doc.id: doc for ranking in reversed(lists) for doc in ranking}
    fused = rank_fusion([[doc.id for doc in ranking] for ranking in lists], top_k, k)
    return [replace(docs[doc_id], score=score) for doc_id, score in fused.items()]
