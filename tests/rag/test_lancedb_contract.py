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
