"""The knowledge base as kbot uses it: scoped retrieval, per-source bookkeeping, the embedder record.

Every read path takes the asker's scopes and turns them into a filter the store enforces; there is
no unscoped search method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from haystack.dataclasses import Document
from haystack.document_stores.types import DuplicatePolicy

from bot.core.messages import Why
from bot.rag.embedding.contract import Embedder, EmbedderFingerprint
from bot.rag.relevance import keywords_agree, query_terms, words
from bot.rag.stores.base import StoreBackend
from bot.rag.stores.filters import and_filters, scope_filter
from bot.rag.stores.fusion import FUSION_CANDIDATES, score_fusion

NO_EMBEDDER = EmbedderFingerprint("none", "none", 0)
Mode = str  # hybrid | keyword | vector


class EmbedderMismatch(Exception):
    """The store's vectors were written by another embedder than the configured one."""


@dataclass
class SourceInfo:
    source: str
    scope: str
    chunks: int
    pages: int
    kind: str | None
    title: str | None
    uploader: str | None
    indexed_at: str | None


@dataclass
class Retrieval:
    documents: list[Document]
    best_similarity: float
    agreement: bool = False  # hybrid only: the keyword and vector rankings agree (bot/rag/relevance.py)


def source_filter(source: str, scopes: Iterable[str] | None = None) -> dict[str, Any]:
    by_source = {"field": "meta.source", "operator": "==", "value": source}
    combined = and_filters(scope_filter(list(scopes)), by_source) if scopes is not None else by_source
    return combined or by_source


class KnowledgeBase:
    def __init__(
        self,
        backend: StoreBackend,
        embedder: Embedder | None,
        fingerprint: EmbedderFingerprint,
        default_mode: Mode = "hybrid",
        default_top_k: int = 5,
    ) -> None:
        self.backend = backend
        self.embedder = embedder
        self.fingerprint = fingerprint
        self.default_mode = default_mode if embedder is not None else "keyword"
        self.default_top_k = default_top_k

    # -- the embedder record ------------------------------------------------------------------------

    def recorded_fingerprint(self) -> EmbedderFingerprint | None:
        data = self.backend.read_manifest().get("embedder")
        return EmbedderFingerprint.from_dict(data) if data else None

    def check_embedder(self) -> None:
        """Refuse to mix vectors from two embedders in one store."""
        recorded = self.recorded_fingerprint()
        if recorded is None or recorded == self.fingerprint:
            return
        raise EmbedderMismatch(
            f"the knowledge base was embedded with {recorded.describe()}, but the config now uses "
            f"{self.fingerprint.describe()}; run `kbot reindex` to re-embed it with the new embedder"
        )

    def _record_embedder(self) -> None:
        manifest = self.backend.read_manifest()
        if manifest.get("embedder") != self.fingerprint.to_dict():
            self.backend.write_manifest({**manifest, "embedder": self.fingerprint.to_dict()})

    # -- writes ---------------------------------------------------------------------------------------

    def embed(self, chunks: list[Document], on_batch: Callable[[int], None] | None = None) -> list[Document]:
        if self.embedder is None:
            return chunks
        embedded: list[Document] = []
        for start in range(0, len(chunks), 64):
            embedded.extend(self.embedder.embed_documents(chunks[start : start + 64]))
            if on_batch:
                on_batch(len(embedded))
        return embedded

    def write(self, chunks: list[Document]) -> int:
        self.check_embedder()
        self._record_embedder()
        return int(self.backend.document_store.write_documents(chunks, policy=DuplicatePolicy.OVERWRITE))

    def delete_ids(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self.backend.document_store.delete_documents(ids)

    def chunk_metadata(self, filters: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
        return self.backend.chunk_metadata(filters)

    def stored_chunks(self, source: str, scope: str, ids: Iterable[str]) -> list[Document]:
        """Those of `ids` that are chunks of `source` in `scope`, with their vectors."""
        wanted = set(ids)
        if not wanted:
            return []
        found = self.backend.document_store.filter_documents(source_filter(source, [scope]))
        return [d for d in found if d.id in wanted]

    def delete_source(self, source: str, scopes: Iterable[str] | None = None) -> int:
        """Remove every chunk of `source` (in the given scopes, or all); the count removed."""
        ids = [chunk_id for chunk_id, _ in self.chunk_metadata(source_filter(source, scopes))]
        self.delete_ids(ids)
        if ids:
            self.backend.purge()  # a deleted document leaves no readable copy in the store's files
        return len(ids)

    def optimize(self) -> None:
        self.backend.optimize()

    def unindexed_rows(self) -> int:
        return self.backend.unindexed_rows()

    def warm_up(self) -> None:
        """Load what the first question would: the store's copy in memory with its keyword index, and
        the query embedder when it is local (a hosted one is not called for nothing)."""
        self.backend.warm_up()
        if self.embedder is not None:
            self.embedder.warm_up_queries()

    def reindex(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every stored chunk with the configured embedder and switch to the result at once."""
        documents = self.backend.document_store.filter_documents()
        bare = [replace(d, embedding=None, score=None) for d in documents]
        total = len(bare)
        embedded = self.embed(bare, on_batch=(lambda done: on_progress(done, total)) if on_progress else None)
        self.backend.rebuild(embedded, self.fingerprint.dim or None)
        manifest = self.backend.read_manifest()
        self.backend.write_manifest({**manifest, "embedder": self.fingerprint.to_dict()})
        return total

    # -- reads ----------------------------------------------------------------------------------------

    def search(
        self, query: str, scopes: Iterable[str], top_k: int | None = None, mode: Mode | None = None
    ) -> list[Document]:
        """Ranked chunks from `scopes` only; an empty scope set sees nothing."""
        return self.retrieve(query, scopes, top_k, mode).documents

    def retrieve(self, query: str, scopes: Iterable[str], top_k: int | None = None, mode: Mode | None = None,
                 candidates: int | None = None) -> Retrieval:
        """Ranked chunks plus how relevant the best of them is (cosine similarity; 1.0 without vectors).

        Hybrid fuses a keyword and a vector list of `candidates` each (see `score_fusion`), done here
        (not in the store) so that every store ranks alike and each chunk can say why it was found:
        `meta["_why"]` holds its ranks and scores in each list and the query terms it contains.
        Relevance is judged on the vector similarity of the closest chunk and, in hybrid, on whether
        the two lists agree (`agreement`, see bot/rag/relevance.py); keyword-only retrieval counts any
        BM25 match as relevant.
        """
        scope_set = sorted(set(scopes))
        if not scope_set or not query.strip():
            return Retrieval([], 0.0)
        self.check_embedder()
        top_k = top_k or self.default_top_k
        mode = mode or self.default_mode
        filters = scope_filter(scope_set)
        if mode == "keyword" or self.embedder is None:
            matched = self.backend.keyword(query, filters, top_k)
            terms = query_terms(query)
            explained = [_explained(d, _why(d, terms, keyword=(rank, d.score))) for rank, d in enumerate(matched, 1)]
            return Retrieval(explained, 1.0 if matched else 0.0)
        embedding = self.embedder.embed_query(query)
        if mode == "vector":
            nearest = self.backend.vector(embedding, filters, max(candidates or top_k * 4, top_k))
            similarity = float(nearest[0].score or 0.0) if nearest else 0.0
            terms = query_terms(query)
            return Retrieval([_explained(d, _why(d, terms, vector=(rank, d.score)))
                              for rank, d in enumerate(nearest[:top_k], 1)], similarity)
        found = self.backend.candidates(query, embedding, filters, max(candidates or FUSION_CANDIDATES, top_k))
        similarity = found.vector[0][1] if found.vector else 0.0
        fused = score_fusion(found.keyword, found.vector, top_k)
        keyword_at = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(found.keyword, 1)}
        vector_at = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(found.vector, 1)}
        documents = found.fetch(list(fused))
        terms = query_terms(query)
        whys = {doc_id: _why(documents[doc_id], terms, keyword=keyword_at.get(doc_id), vector=vector_at.get(doc_id),
                             fused=score) for doc_id, score in fused.items() if doc_id in documents}
        explained = [_explained(replace(documents[doc_id], score=fused[doc_id]), why) for doc_id, why in whys.items()]
        return Retrieval(explained, similarity, keywords_agree(len(terms), whys.values()))

    def sources(self, scopes: Iterable[str] | None = None) -> list[SourceInfo]:
        filters = scope_filter(list(scopes)) if scopes is not None else None
        grouped: dict[tuple[str, str], SourceInfo] = {}
        pages: dict[tuple[str, str], set[int]] = {}
        for _, meta in self.chunk_metadata(filters):
            key = (str(meta.get("scope")), str(meta.get("source")))
            info = grouped.get(key)
            if info is None:
                info = grouped[key] = SourceInfo(
                    source=key[1], scope=key[0], chunks=0, pages=0, kind=meta.get("kind"),
                    title=meta.get("title"), uploader=meta.get("uploader"), indexed_at=meta.get("indexed_at"),
                )
            info.chunks += 1
            if isinstance(meta.get("page"), int):
                pages.setdefault(key, set()).add(meta["page"])
        for key, info in grouped.items():
            info.pages = len(pages.get(key, ()))
        return sorted(grouped.values(), key=lambda s: (s.scope, s.source))

    def count_chunks(self) -> int:
        return int(self.backend.document_store.count_documents())


def _why(document: Document, terms: list[str], *, keyword: tuple[int, float | None] | None = None,
         vector: tuple[int, float | None] | None = None, fused: float | None = None) -> Why:
    """Where the document ranked in each list, and which of the query's terms (query_terms) it contains."""
    found = words(document.content or "")
    return Why(keyword_rank=keyword[0] if keyword else None,
               keyword_score=_rounded(keyword[1]) if keyword else None,
               vector_rank=vector[0] if vector else None, vector_score=_rounded(vector[1]) if vector else None,
               fused_score=_rounded(fused), matched_terms=tuple(t for t in terms if t in found))


def _explained(document: Document, why: Why) -> Document:
    """The document as retrieval hands it on: `meta["_why"]` set, its vector dropped."""
    return replace(document, embedding=None, meta={**document.meta, "_why": why.to_json()})


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
