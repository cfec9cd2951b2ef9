"""Haystack's own document store contract suite, run against our LanceDB store."""

from __future__ import annotations

import math

import pytest
from haystack.dataclasses import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.testing.document_store import DocumentStoreBaseExtendedTests

from bot.rag.stores.lancedb import LanceDBDocumentStore


def _same_embedding(a: list[float] | None, b: list[float] | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6) for x, y in zip(a, b, strict=True))


class TestLanceDBContract(DocumentStoreBaseExtendedTests):
    @pytest.fixture
    def document_store(self, tmp_path) -> LanceDBDocumentStore:
        return LanceDBDocumentStore(tmp_path / "lancedb", embedding_dim=768)

    def assert_documents_are_equal(self, received: list[Document], expected: list[Document]) -> None:
        """Vectors are stored as float32 and rows come back in storage order: compare on that basis."""
        assert len(received) == len(expected)
        by_id = {d.id: d for d in received}
        assert set(by_id) == {d.id for d in expected}
        for want in expected:
            got = by_id[want.id]
            assert got.content == want.content
            assert got.meta == want.meta
            assert _same_embedding(got.embedding, want.embedding)

    def test_write_documents(self, document_store: LanceDBDocumentStore) -> None:
        doc = Document(content="test doc")
        assert document_store.write_documents([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            document_store.write_documents([doc])
        assert document_store.write_documents([doc], policy=DuplicatePolicy.OVERWRITE) == 1
        self.assert_documents_are_equal(document_store.filter_documents(), [doc])


class TestScopedVectorSearch:
    """The in-memory scoped vector search returns what LanceDB's exact scan returns, and stays fresh."""

    @pytest.fixture
    def stores(self, tmp_path) -> tuple[LanceDBDocumentStore, LanceDBDocumentStore]:
        import random

        rng = random.Random(5)
        docs = [
            Document(
                id=f"d{i}", content=f"doc {i}", meta={"scope": f"s{i % 4}", "n": i},
                embedding=[rng.uniform(-1, 1) for _ in range(16)],
            )
            for i in range(300)
        ]
        cached = LanceDBDocumentStore(tmp_path / "db", embedding_dim=16)
        cached.write_documents(docs)
        scanned = LanceDBDocumentStore(tmp_path / "db", embedding_dim=16, cache_rows=0)
        return cached, scanned

    @pytest.mark.parametrize(
        "filters",
        [
            None,
            {"field": "meta.scope", "operator": "in", "value": ["s1", "s3"]},
            {"field": "meta.scope", "operator": "==", "value": "s2"},
            {"operator": "AND", "conditions": [{"field": "meta.scope", "operator": "in", "value": ["s1", "s2"]},
                                               {"field": "meta.scope", "operator": "in", "value": ["s2", "s3"]}]},
            {"field": "meta.scope", "operator": "in", "value": ["nowhere"]},
            {"operator": "AND", "conditions": [{"field": "meta.scope", "operator": "in", "value": ["s1"]},
                                               {"field": "meta.n", "operator": ">", "value": 150}]},
        ],
    )
    def test_same_hits_as_lancedb_scan(self, stores, filters) -> None:
        cached, scanned = stores
        import random

        rng = random.Random(9)
        for _ in range(5):
            query = [rng.uniform(-1, 1) for _ in range(16)]
            got = cached.embedding_retrieval(query, filters=filters, top_k=7)
            want = scanned.embedding_retrieval(query, filters=filters, top_k=7)
            assert [d.id for d in got] == [d.id for d in want]
            assert all(math.isclose(a.score, b.score, abs_tol=1e-5) for a, b in zip(got, want, strict=True))
            assert all(d.meta["scope"] in {"s1", "s2", "s3", "s0"} for d in got)
        if filters and filters.get("value") == ["s1", "s3"]:
            assert {d.meta["scope"] for d in got} <= {"s1", "s3"} and got

    def test_hybrid_matches_the_scan_path(self, stores) -> None:
        cached, scanned = stores
        import random

        rng = random.Random(11)
        scope = {"field": "meta.scope", "operator": "in", "value": ["s0", "s2"]}
        for words in (["doc", "12"], ["doc", "7"], ["nothing"]):
            query = [rng.uniform(-1, 1) for _ in range(16)]
            got = cached.hybrid_retrieval(" ".join(words), query, filters=scope, top_k=6)
            want = scanned.hybrid_retrieval(" ".join(words), query, filters=scope, top_k=6)
            assert [(d.id, round(d.score, 6)) for d in got] == [(d.id, round(d.score, 6)) for d in want]
            assert len(got) == 6 and {d.meta["scope"] for d in got} <= {"s0", "s2"}
            assert all(d.content for d in got)

    def test_keyword_matches_the_scan_path_including_rows_without_vectors(self, stores) -> None:
        cached, scanned = stores
        cached.write_documents([Document(id="plain", content="doc 12 plain text", meta={"scope": "s0"})])
        scope = {"field": "meta.scope", "operator": "in", "value": ["s0", "s1"]}
        got = cached.bm25_retrieval("doc 12 plain", filters=scope, top_k=5)
        want = scanned.bm25_retrieval("doc 12 plain", filters=scope, top_k=5)
        assert [d.score for d in got] == [d.score for d in want]
        # Rows with equal BM25 scores ("doc 1", "doc 8") come back from LanceDB in no fixed order: compare
        # the ranked rows whose score is their own, and that every row is whole whichever path served it.
        scores = [d.score for d in want]
        untied = [i for i, score in enumerate(scores) if scores.count(score) == 1]
        assert [(got[i].id, got[i].content, got[i].meta) for i in untied] == \
               [(want[i].id, want[i].content, want[i].meta) for i in untied]
        assert all(d.content == f"doc {d.meta['n']}" for d in got if "n" in d.meta)
        assert got[0].id == "plain"
        query = [1.0] * 16
        assert "plain" not in {d.id for d in cached.embedding_retrieval(query, filters=scope, top_k=300)}

    def test_sees_writes_and_deletes(self, stores) -> None:
        cached, _ = stores
        query = [1.0] + [0.0] * 15
        scope = {"field": "meta.scope", "operator": "==", "value": "s9"}
        assert cached.embedding_retrieval(query, filters=scope) == []
        cached.write_documents([Document(id="new", content="new", meta={"scope": "s9"}, embedding=query)])
        assert [d.id for d in cached.embedding_retrieval(query, filters=scope)] == ["new"]
        cached.delete_documents(["new"])
        assert cached.embedding_retrieval(query, filters=scope) == []

    def test_sees_another_processes_writes(self, stores, tmp_path) -> None:
        import time

        cached, _ = stores
        query = [0.0, 1.0] + [0.0] * 14
        scope = {"field": "meta.scope", "operator": "==", "value": "elsewhere"}
        assert cached.embedding_retrieval(query, filters=scope) == []
        writer = LanceDBDocumentStore(tmp_path / "db", embedding_dim=16)  # its own connection, as another process
        writer.write_documents([Document(id="other", content="x", meta={"scope": "elsewhere"}, embedding=query)])
        deadline = time.monotonic() + 10
        while not cached.embedding_retrieval(query, filters=scope) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [d.id for d in cached.embedding_retrieval(query, filters=scope)] == ["other"]
