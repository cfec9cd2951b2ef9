"""An in-memory copy of a LanceDB table's vectors, texts and metadata, grouped by scope.

LanceDB's flat KNN reads and decodes every vector on each query (about 100 ms at 100k chunks on
two cores), and its ANN indexes lose most of their recall under a selective scope prefilter. Every
kbot query is scoped, so holding the vectors as one contiguous block per scope turns a scoped
search into a few small matrix-vector products over exactly the rows the asker may see, and the
winners' text and metadata come from memory instead of a second read of the table. Once queries
come often enough, the copy also gets a BM25 index of its texts (`keyword_index`) for the keyword leg.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from haystack.dataclasses import Document

from bot.rag.stores.keyword_index import KeywordIndex


@dataclass
class Hit:
    doc_id: str
    score: float


@dataclass
class ChunkCache:
    version: int
    doc_ids: np.ndarray  # object array of ids; rows with vectors first, each scope contiguous
    matrix: np.ndarray  # float32 (rows with vectors, dim), unit-length rows
    blocks: dict[str | None, slice]  # scope -> its rows in `matrix`
    content: pa.Array
    meta: pa.Array
    positions: dict[str, int]
    row_scopes: np.ndarray  # int32 per row (all rows, in doc_ids order): its scope's number in scope_numbers
    scope_numbers: dict[str | None, int]
    keyword: KeywordIndex | None = None  # BM25 over `content`, built when queries come often enough
    keyword_asks: int = 0  # keyword queries that reached this copy before its index was wanted
    keyword_wanted: bool = False  # its index is built or being built; a reload of the table builds one too

    @classmethod
    def load(cls, table: Any, version: int, dim: int) -> ChunkCache:
        data = (
            table.search()
            .select(["id", "scope", "has_embedding", "embedding", "content", "meta"])
            .limit(max(table.count_rows(), 1))
            .to_arrow()
        )
        scopes = np.array(["" if s is None else s for s in data.column("scope").to_pylist()], dtype=object)
        has_vector = np.array(data.column("has_embedding").to_pylist(), dtype=bool)
        # Rows with vectors first, grouped by scope; rows without vectors after them (text lookups only).
        order = np.lexsort((scopes, ~has_vector)) if len(scopes) else np.arange(0)
        with_vectors = int(has_vector.sum())
        vector_rows = order[:with_vectors]
        matrix = _gather_vectors(data.column("embedding"), vector_rows, dim)
        blocks: dict[str | None, slice] = {}
        vector_scopes = scopes[vector_rows]
        if with_vectors:
            starts = np.flatnonzero(np.r_[True, vector_scopes[1:] != vector_scopes[:-1]])
            ends = np.r_[starts[1:], with_vectors]
            for start, end in zip(starts, ends, strict=True):
                name = vector_scopes[start]
                blocks[None if name == "" else name] = slice(int(start), int(end))
        take = pa.array(order, type=pa.int64())
        doc_ids = np.array(data.column("id").to_pylist(), dtype=object)[order]
        names: Any
        names, numbers = np.unique(scopes[order], return_inverse=True) if len(order) else ([], np.zeros(0))
        return cls(
            version=version,
            doc_ids=doc_ids,
            matrix=matrix,
            blocks=blocks,
            content=data.column("content").combine_chunks().take(take),
            meta=data.column("meta").combine_chunks().take(take),
            positions={doc_id: i for i, doc_id in enumerate(doc_ids)},
            row_scopes=np.asarray(numbers, dtype=np.int32),
            scope_numbers={None if name == "" else str(name): i for i, name in enumerate(names)},
        )

    def keyword_search(self, query: str, scopes: list[str] | None, top_k: int) -> list[Hit]:
        """BM25 hits from the given scopes only (None: every row); needs `keyword` built."""
        assert self.keyword is not None
        allowed = None
        if scopes is not None:
            wanted = [self.scope_numbers[s] for s in scopes if s in self.scope_numbers]
            if not wanted:
                return []
            allowed = np.isin(self.row_scopes, wanted)
        return [Hit(str(self.doc_ids[row]), score) for row, score in self.keyword.search(query, allowed, top_k)]

    def search(self, query: list[float], scopes: list[str] | None, top_k: int) -> list[Hit]:
        """The top_k rows by cosine similarity, from the given scopes only (None: every row)."""
        vector = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0 or top_k <= 0:
            return []
        vector /= norm
        spans = list(self.blocks.values()) if scopes is None else [self.blocks[s] for s in scopes if s in self.blocks]
        best_rows: list[np.ndarray] = []
        best_scores: list[np.ndarray] = []
        for span in spans:
            scores = self.matrix[span] @ vector
            if len(scores) > top_k:
                keep = np.argpartition(-scores, top_k - 1)[:top_k]
                best_rows.append(keep + span.start)
                best_scores.append(scores[keep])
            else:
                best_rows.append(np.arange(span.start, span.stop))
                best_scores.append(scores)
        if not best_rows:
            return []
        rows = np.concatenate(best_rows)
        scores = np.concatenate(best_scores)
        ranked = np.argsort(-scores, kind="stable")[:top_k]
        return [Hit(str(self.doc_ids[rows[i]]), float(scores[i])) for i in ranked]

    def document(self, doc_id: str, score: float | None) -> Document | None:
        """The chunk as retrieval returns it (text and metadata, no vector); None if not in this copy."""
        position = self.positions.get(doc_id)
        if position is None:
            return None
        return Document(
            id=doc_id,
            content=self.content[position].as_py(),
            meta=json.loads(self.meta[position].as_py() or "{}"),
            score=score,
        )


def scopes_of(filters: dict[str, Any] | None) -> list[str] | None | Literal[False]:
    """The scope list a filter restricts to; None for no filter; False when it says more than scopes."""
    if not filters:
        return None
    if filters.get("field") == "meta.scope":
        value, operator = filters.get("value"), filters.get("operator")
        if operator == "==" and isinstance(value, str):
            return [value]
        if operator == "in" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        return False
    if filters.get("operator") == "AND" and filters.get("conditions"):
        allowed: set[str] | None = None
        for condition in filters["conditions"]:
            scopes = scopes_of(condition)
            if scopes is False:
                return False
            if scopes is not None:
                allowed = set(scopes) if allowed is None else allowed & set(scopes)
        return sorted(allowed) if allowed is not None else None
    return False


def _gather_vectors(column: pa.ChunkedArray, rows: np.ndarray, dim: int) -> np.ndarray:
    """`column`'s vectors at `rows`, in that order, as unit-length float32 rows: written straight
    from each chunk of the table into the one matrix kept, and normalised in place. At 100k chunks
    every extra copy is 150 MB for the kernel to fault in, which took seconds on a VM that backs
    transparent huge pages slowly (NumPy asks for them unless told not to; see bot/cli/main.py)."""
    matrix = np.empty((len(rows), dim), dtype=np.float32)
    destination = np.full(len(column), -1, dtype=np.int64)
    destination[rows] = np.arange(len(rows))
    start = 0
    for chunk in column.chunks:
        wanted = destination[start:start + len(chunk)]
        start += len(chunk)
        kept = wanted >= 0
        if kept.any():
            values = chunk.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
            matrix[wanted[kept]] = values[kept]
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]
    matrix /= np.where(norms == 0, np.float32(1.0), norms)
    return matrix
