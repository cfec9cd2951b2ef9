"""A Haystack document store over embedded LanceDB, with BM25, vector and hybrid retrieval.

Metadata is kept whole as JSON (any shape round-trips); `scope` and `source` are also promoted to
columns so the filters on every query (scope) and on replace/delete (source) run inside LanceDB.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from haystack import default_from_dict, default_to_dict
from haystack.dataclasses import ByteStream, Document, SparseEmbedding
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.utils.filters import document_matches_filter

from bot.file_lock import file_lock
from bot.rag.stores.base import Candidates
from bot.rag.stores.chunk_cache import ChunkCache, scopes_of
from bot.rag.stores.commit_retry import retry_conflicts
from bot.rag.stores.filters import split_filters, sql_literal, validate_filters
from bot.rag.stores.fusion import RRF_K, rank_fusion
from bot.rag.stores.keyword_index import Analyzer, KeywordIndex

PROMOTED = {"id": "id", "meta.scope": "scope", "meta.source": "source"}
VERSION_RECHECK_S = 0.5
# Each commit adds a fragment that lookups scan beside the indexes until `optimize` folds it in, so
# unfolded, every file of a long `kbot ingest` cost more than the last (keyword only, 32 ms a file at
# first, 221 ms by the 1,000th; bench/ingest.py --notes 1000 took 3x as long). Folding every this many
# commits keeps a file's cost flat; one fold of 100 files on a 100k-chunk table takes about 1 s.
FOLD_EVERY_COMMITS = 200
log = logging.getLogger(__name__)
_ROW_COLUMNS = ["id", "content", "meta", "blob", "blob_mime", "blob_meta", "sparse", "has_embedding"]


def _arrow_schema(embedding_dim: int | None) -> pa.Schema:
    fields = [
        pa.field("id", pa.string(), nullable=False),
        pa.field("content", pa.string()),
        pa.field("meta", pa.string()),
        pa.field("scope", pa.string()),
        pa.field("source", pa.string()),
        pa.field("blob", pa.binary()),
        pa.field("blob_mime", pa.string()),
        pa.field("blob_meta", pa.string()),
        pa.field("sparse", pa.string()),
        pa.field("has_embedding", pa.bool_()),
    ]
    if embedding_dim:
        fields.append(pa.field("embedding", pa.list_(pa.float32(), embedding_dim)))
    return pa.schema(fields)


Background = Callable[[Callable[[], None], str], None]  # runs work beside the queries: (work, thread name)


def daemon_thread(work: Callable[[], None], name: str) -> None:
    """Searches never wait for it, and a process that exits does not wait for it either."""
    threading.Thread(target=work, name=name, daemon=True).start()


class LanceDBDocumentStore:
    """Documents in one LanceDB table on disk; opened lazily so construction stays cheap."""

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
        self.path = str(path)
        self.table_name = table_name
        self.embedding_dim = embedding_dim
        # Tables up to this many chunks are searched from an in-memory copy (about 2.5 KB a chunk
        # at 384 dims: vector, text, metadata); larger ones are searched by LanceDB alone.
        self.cache_rows = cache_rows
        # Cached tables up to this many chunks also get an in-memory BM25 index (built in the background,
        # about 0.4 s at 10k chunks on two cores): larger ones keep LanceDB's full-text search.
        self.keyword_rows = keyword_rows
        self.fold_every_commits = fold_every_commits
        self._background = background or daemon_thread  # where the copy's reloads and BM25 builds run
        self._commits_since_fold = 0  # this process's commits: others fold their own
        self._cache: ChunkCache | None = None
        self._refreshing = False  # a newer version's copy is being loaded in the background
        self._analyzer: Analyzer | None = None
        self._version_read_at = -math.inf  # when `_cache_for` last asked LanceDB for the table version
        self._indexes_ready = ""  # which open table is known to have its indexes
        self._db: Any = None
        self._table: Any = None
        self._lock = threading.RLock()
        self._dim_conflict: str | None = None

    # -- plumbing ---------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._db is None:
            import lancedb

            Path(self.path).mkdir(parents=True, exist_ok=True)
            # Another process (`kbot ingest` beside `kbot run`) may write: LanceDB looks for new versions
            # every half second and `_cache_for` asks it every half second, so they show within a second.
            self._db = lancedb.connect(self.path, read_consistency_interval=timedelta(seconds=VERSION_RECHECK_S))
        return self._db

    def _open(self, create: bool = False) -> Any:
        with self._lock:
            if self._table is not None:
                return self._table
            db = self._connect()
            if self.table_name in db.list_tables().tables:
                self._table = db.open_table(self.table_name)
                self._check_dim(self._table.schema)
            elif create:
                self._table = self._create(db)
                self._check_dim(self._table.schema)
            return self._table

    def _create(self, db: Any) -> Any:
        """The table, created under a lock file that every kbot process on this folder takes: two that
        create it at once would each commit a creation, and Lance lets the second one (an Overwrite)
        replace whatever the first had appended in between."""
        with file_lock(Path(self.path) / f".{self.table_name}.create-lock"):
            if self.table_name in db.list_tables().tables:  # made while this process waited
                return db.open_table(self.table_name)
            return db.create_table(self.table_name, schema=_arrow_schema(self.embedding_dim), exist_ok=True)

    def _check_dim(self, schema: pa.Schema) -> None:
        """Adopt the table's dimension; remember a conflict so writes and vector search refuse it."""
        stored = schema.field("embedding").type.list_size if "embedding" in schema.names else None
        if self.embedding_dim is not None and stored != self.embedding_dim:
            self._dim_conflict = (
                f"table {self.table_name!r} holds {stored or 'no'}-dimension vectors, "
                f"not {self.embedding_dim}; run `kbot reindex`"
            )
        self.embedding_dim = stored

    def _wrote(self, commits: int = 1) -> None:
        """This store changed the table: the next search reads its version again."""
        self._version_read_at = -math.inf
        self._commits_since_fold += commits

    def _fold_if_due(self) -> None:
        """After enough commits, fold the new fragments into the indexes. Called once the write has
        let go of the lock, so searches in this process do not wait for the fold."""
        if not self.fold_every_commits or self._commits_since_fold < self.fold_every_commits:
            return
        try:
            self.optimize()
        except Exception:  # the write itself is committed; a later fold or `kbot ingest` catches up
            log.warning("could not fold recent writes into the search indexes", exc_info=True)

    def _refuse_dim_conflict(self) -> None:
        if self._dim_conflict:
            raise ValueError(self._dim_conflict)

    def _ensure_indexes(self, table: Any) -> None:
        """Full-text on content; scalar indexes on the columns every query and replace filters on."""
        if self._indexes_ready == table.name + str(id(table)):
            return
        present = {tuple(ix.columns) for ix in table.list_indices()}
        if ("content",) not in present or ("scope",) not in present:
            from lancedb.index import FTS, Bitmap, BTree

            wanted = {"content": FTS(with_position=False), "scope": Bitmap(), "source": BTree(), "id": BTree()}
            for column, config in wanted.items():
                if (column,) not in present:
                    retry_conflicts(lambda c=column, k=config: self._create_index(table, c, k), f"index {column}")
        self._indexes_ready = table.name + str(id(table))

    @staticmethod
    def _create_index(table: Any, column: str, config: Any) -> None:
        """Unless another process made it meanwhile (the conflict that sends us here again)."""
        if (column,) not in {tuple(ix.columns) for ix in table.list_indices()}:
            table.create_index(column, config=config, replace=True)

    def unindexed_rows(self) -> int:
        """Rows the full-text index does not cover yet (searched by a slower scan until `optimize`)."""
        table = self._open()
        if table is None:
            return 0
        names = [ix.name for ix in table.list_indices() if list(ix.columns) == ["content"]]
        return int(table.index_stats(names[0]).num_unindexed_rows) if names else table.count_rows()

    def optimize(self) -> None:
        """Fold recent writes into the indexes (new rows are searchable before this, just slower)."""
        table = self._open()
        if table is not None and table.count_rows():
            self._ensure_indexes(table)
            retry_conflicts(table.optimize, "optimize")
        self._folded()

    def _folded(self) -> None:
        self._version_read_at = -math.inf
        self._commits_since_fold = 0

    def purge(self) -> None:
        """Make deleted rows unrecoverable: rewrite the files that held them and drop old versions
        (LanceDB otherwise keeps every version for 7 days, deleted text included)."""
        table = self._open()
        if table is not None:
            with warnings.catch_warnings():  # chosen: a search in flight on an old version fails once; deletes are rare
                warnings.filterwarnings("ignore", message=r"optimize\(cleanup_older_than=0\)")
                table.optimize(cleanup_older_than=timedelta(0), delete_unverified=True)
            self._folded()

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            path=self.path,
            table_name=self.table_name,
            embedding_dim=self.embedding_dim,
            cache_rows=self.cache_rows,
            keyword_rows=self.keyword_rows,
            fold_every_commits=self.fold_every_commits,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LanceDBDocumentStore:
        return default_from_dict(cls, data)

    # -- rows <-> documents -----------------------------------------------------------------------

    def _to_row(self, doc: Document) -> dict[str, Any]:
        meta = doc.meta or {}
        row: dict[str, Any] = {
            "id": doc.id,
            "content": doc.content,
            "meta": json.dumps(meta, default=str),
            "scope": meta.get("scope") if isinstance(meta.get("scope"), str) else None,
            "source": meta.get("source") if isinstance(meta.get("source"), str) else None,
            "blob": doc.blob.data if doc.blob else None,
            "blob_mime": doc.blob.mime_type if doc.blob else None,
            "blob_meta": json.dumps(doc.blob.meta) if doc.blob else None,
            "sparse": json.dumps(doc.sparse_embedding.to_dict()) if doc.sparse_embedding else None,
            "has_embedding": doc.embedding is not None,
        }
        if self.embedding_dim:
            if doc.embedding is not None and len(doc.embedding) != self.embedding_dim:
                raise ValueError(
                    f"document {doc.id} has a {len(doc.embedding)}-dimension embedding; "
                    f"this store holds {self.embedding_dim}-dimension vectors"
                )
            row["embedding"] = doc.embedding if doc.embedding is not None else [0.0] * self.embedding_dim
        elif doc.embedding is not None:
            raise ValueError("this store keeps no vectors (embedder: none) but a document has an embedding")
        return row

    @staticmethod
    def _to_document(row: dict[str, Any], score: float | None = None) -> Document:
        blob = None
        if row.get("blob") is not None:
            blob = ByteStream(
                data=row["blob"], mime_type=row.get("blob_mime"), meta=json.loads(row.get("blob_meta") or "{}")
            )
        embedding = row.get("embedding") if row.get("has_embedding") else None
        sparse = SparseEmbedding.from_dict(json.loads(row["sparse"])) if row.get("sparse") else None
        return Document(
            id=row["id"],
            content=row.get("content"),
            meta=json.loads(row.get("meta") or "{}"),
            blob=blob,
            embedding=list(embedding) if embedding is not None else None,
            sparse_embedding=sparse,
            score=score,
        )

    def _columns(self, with_embedding: bool) -> list[str]:
        return _ROW_COLUMNS + (["embedding"] if with_embedding and self.embedding_dim else [])

    def _scan(self, where: str | None, columns: list[str]) -> list[dict[str, Any]]:
        table = self._open()
        if table is None:
            return []
        total = table.count_rows()
        if not total:
            return []
        query = table.search().select(columns).limit(total)
        if where:
            query = query.where(where)
        return query.to_arrow().to_pylist()

    # -- the DocumentStore protocol ---------------------------------------------------------------

    def count_documents(self) -> int:
        table = self._open()
        return table.count_rows() if table is not None else 0

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        validate_filters(filters)
        sql, residual = split_filters(filters, PROMOTED)
        docs = [self._to_document(r) for r in self._scan(sql, self._columns(with_embedding=True))]
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
        with self._lock:
            table = self._open(create=True)
            self._refuse_dim_conflict()
            existing = self._existing_ids(list(latest))
            if policy == DuplicatePolicy.FAIL and existing:
                raise DuplicateDocumentError(f"documents with ids {sorted(existing)[:5]} already exist")
            if policy == DuplicatePolicy.SKIP:
                latest = {k: v for k, v in latest.items() if k not in existing}
            if not latest:
                return 0
            rows = [self._to_row(d) for d in latest.values()]
            data = pa.Table.from_pylist(rows, schema=table.schema)
            if existing:
                retry_conflicts(lambda: table.merge_insert("id").when_matched_update_all()
                                .when_not_matched_insert_all().execute(data), "write")
            else:
                retry_conflicts(lambda: table.add(data), "write")
            self._ensure_indexes(table)
            self._wrote()
        self._fold_if_due()
        return len(rows)

    def delete_documents(self, document_ids: list[str]) -> None:
        table = self._open()
        if table is None or not document_ids:
            return
        batches = list(_batches(document_ids, 500))
        for batch in batches:
            where = f"id IN ({', '.join(sql_literal(i) for i in batch)})"
            retry_conflicts(lambda w=where: table.delete(w), "delete")
        self._wrote(len(batches))
        self._fold_if_due()

    # -- the extended protocol --------------------------------------------------------------------

    def delete_all_documents(self, recreate_index: bool = False) -> None:
        with self._lock:
            table = self._open()
            if table is None:
                return
            if recreate_index:
                self._connect().drop_table(self.table_name)
                self._table = None
                self._cache = None  # a new table restarts its version numbers
            else:
                table.delete("TRUE")
            self._wrote()

    def _matching_ids(self, filters: dict[str, Any] | None) -> list[str]:
        validate_filters(filters)
        sql, residual = split_filters(filters, PROMOTED)
        if residual is None:
            return [r["id"] for r in self._scan(sql, ["id"])]
        return [d.id for d in self.filter_documents(filters)]

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        with self._lock:
            ids = self._matching_ids(filters)
            self.delete_documents(ids)
            return len(ids)

    def update_by_filter(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        with self._lock:
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
        for batch in _batches(ids, 500):
            rows = self._scan(f"id IN ({', '.join(sql_literal(i) for i in batch)})", ["id"])
            found.update(r["id"] for r in rows)
        return found

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

    def _cache_for(self, table: Any, filters: dict[str, Any] | None) -> tuple[ChunkCache | None, list[str] | None]:
        """The in-memory copy and the scopes to search, when this query can be answered from memory."""
        if table is None or not self.embedding_dim or self._dim_conflict:
            return None, None
        scopes = scopes_of(filters)
        if scopes is False:
            return None, None
        with self._lock:
            if self._refreshing:
                return None, None  # LanceDB answers, from the newest version, while the copy reloads
            now = time.monotonic()
            if self._cache is not None and now - self._version_read_at < VERSION_RECHECK_S:
                return self._cache, scopes  # type: ignore[return-value]
            version = table.version  # about 1 ms (a round trip into LanceDB's runtime): not on every leg
            self._version_read_at = now
            if self._cache is None or self._cache.version != version:
                previous, self._cache = self._cache, None
                if table.count_rows() > self.cache_rows:
                    return None, None
                if previous is None:
                    self._cache = ChunkCache.load(table, version, self.embedding_dim)
                else:
                    self._refresh_in_background(table, version, keep_keyword=previous.keyword_wanted)
                    return None, None
        return self._cache, scopes  # type: ignore[return-value]

    def _refresh_in_background(self, table: Any, version: int, keep_keyword: bool) -> None:
        """Reload the copy of a table that changed, beside the queries: at 100k chunks a reload takes
        over a second, and the first question after every upload waited for it. Called with `_lock`
        held; once the copy is in, the next query reads the version again, so a write made meanwhile
        is never missed."""
        self._refreshing = True

        def refresh() -> None:
            try:
                cache = ChunkCache.load(table, version, self.embedding_dim)
            except Exception:
                log.warning("could not reload the in-memory copy of the table; the next query tries again",
                            exc_info=True)
                cache = None
            with self._lock:
                self._refreshing, self._version_read_at = False, -math.inf
                if cache is None or table is not self._table:  # failed, or the table was recreated meanwhile
                    return
                self._cache = cache
                if keep_keyword:  # a process that asked for the index keeps one
                    self._start_keyword_build(cache)

        try:
            self._background(refresh, "kbot-chunk-cache")
        except Exception:  # no thread to be had: the next query loads the copy itself, as before
            log.warning("could not start reloading the in-memory copy in the background", exc_info=True)
            self._refreshing = False

    def _memory_keyword(self, cache: ChunkCache) -> bool:
        """Whether `cache` answers keyword queries itself. Its index is built in the background when a
        second keyword query reaches the same table version, and from then on as soon as a write brings
        a new version: a one-shot command (`kbot search`) never pays for it, a running bot pays once
        per change and no query waits for it."""
        if cache.keyword is not None:
            return True
        if len(cache.doc_ids) > self.keyword_rows:
            return False
        with self._lock:
            cache.keyword_asks += 1
            if cache.keyword_asks >= 2:
                self._start_keyword_build(cache)
        return False

    def _start_keyword_build(self, cache: ChunkCache) -> None:
        """Build `cache`'s BM25 index in a background thread, once, where the table is small enough.
        Called with `_lock` held."""
        if cache.keyword_wanted:
            return
        cache.keyword_wanted = True
        if len(cache.doc_ids) <= self.keyword_rows:
            self._background(lambda: self._build_keyword(cache), "kbot-bm25")

    def _build_keyword(self, cache: ChunkCache) -> None:
        with self._lock:
            analyzer = self._analyzer = self._analyzer or Analyzer()
        cache.keyword = KeywordIndex.build(cache.content, analyzer)

    @property
    def copy_in_memory(self) -> bool:
        """Whether queries are answered from the copy in memory (not while it reloads after a change)."""
        return self._cache is not None and not self._refreshing

    @property
    def keyword_from_memory(self) -> bool:
        """Whether keyword queries on the copy in memory are answered by its BM25 index yet."""
        cache = self._cache
        return cache is not None and cache.keyword is not None

    def build_keyword_index(self) -> bool:
        """Build the in-memory BM25 index for the current table version now (benchmarks and tests);
        False where the table is too large for it or not searched from memory."""
        table = self._open()
        cache, _ = self._cache_for(table, None)
        if cache is None or len(cache.doc_ids) > self.keyword_rows:
            return False
        cache.keyword_wanted = True  # and kept across writes
        if cache.keyword is None:
            self._build_keyword(cache)
        return True

    def _keyword_ids(
        self, table: Any, cache: ChunkCache, scopes: list[str] | None, query: str, where: str | None, top_k: int
    ) -> list[tuple[str, float]]:
        """(id, BM25 score) best first: from memory when the index is there, else from LanceDB."""
        if self._memory_keyword(cache):
            return [(h.doc_id, h.score) for h in cache.keyword_search(query, scopes, top_k)]
        return [(r["id"], float(r["_score"])) for r in self._fts(table, query, where, top_k, ["id"])]

    def _fts(self, table: Any, query: str, where: str | None, top_k: int, columns: list[str]) -> list[dict]:
        self._ensure_indexes(table)
        search = table.search(query, query_type="fts", fts_columns="content").limit(top_k)
        search = search.select([*columns, "_score"])
        if where:
            search = search.where(where, prefilter=True)
        return search.to_arrow().to_pylist()

    def bm25_retrieval(
        self, query: str, filters: dict[str, Any] | None = None, top_k: int = 10
    ) -> list[Document]:
        table = self._open()
        if table is None or not query.strip():
            return []
        possible, where = self._prefilter(filters)
        if not possible:
            return []
        cache, scopes = self._cache_for(table, filters)
        if cache is None:
            rows = self._fts(table, query, where, top_k, self._columns(with_embedding=False))
            return [self._to_document(r, score=float(r["_score"])) for r in rows]
        found = self._keyword_ids(table, cache, scopes, query, where, top_k)
        return [d for doc_id, score in found if (d := cache.document(doc_id, score)) is not None]

    def embedding_retrieval(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int = 10
    ) -> list[Document]:
        table = self._open()
        self._refuse_dim_conflict()
        if table is None or not self.embedding_dim:
            return []
        if len(query_embedding) != self.embedding_dim:
            raise ValueError(
                f"query embedding has {len(query_embedding)} dimensions; the store holds {self.embedding_dim}"
            )
        validate_filters(filters)
        cache, scopes = self._cache_for(table, filters)
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
            self._to_document(r, score=1.0 - float(r["_distance"])) for r in search.to_arrow().to_pylist()
        ]

    def hybrid_candidates(
        self, query: str, query_embedding: list[float], filters: dict[str, Any] | None, top_k: int
    ) -> Candidates | None:
        """Both rankings from the in-memory copy, documents built only for the ids asked for; None when
        this query cannot be answered from memory."""
        table = self._open()
        self._refuse_dim_conflict()
        if table is None or not self.embedding_dim or len(query_embedding) != self.embedding_dim:
            return None
        cache, scopes = self._cache_for(table, filters)  # reads only the scopes; _prefilter validates
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
        table = self._open()
        cache, scopes = self._cache_for(table, filters)
        if cache is None:
            keyword = self.bm25_retrieval(query, filters=filters, top_k=pool)
            vector = self.embedding_retrieval(query_embedding, filters=filters, top_k=pool)
            return fuse_rankings([keyword, vector], top_k=top_k)
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


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
