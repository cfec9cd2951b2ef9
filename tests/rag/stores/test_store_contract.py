"""The store contract kbot relies on beyond Haystack's: on every backend (LanceDB always, Weaviate when
WEAVIATE_URL is set) deletion by source, re-indexing, changed documents and the "why these sources"
data behave alike, and vector scores are cosine similarities (answer.min_similarity means the same)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_indexer
from bot.rag.knowledge_base import KnowledgeBase, source_filter
from tests.support.stores import BACKENDS, make_backend

DOCS = {
    ("global", "vacation.md"): "# Time off\n\nEvery employee gets 25 vacation days a year.",
    ("global", "parking.md"): "# Parking\n\nThe garage under building B has 40 spaces for staff cars.",
    ("slack:T1", "vacation.md"): "# Team time off\n\nThe T1 team plans vacation days in the shared calendar.",
}


@pytest.fixture(params=BACKENDS)
def kb(request, tmp_path: Path, local_embedder) -> KnowledgeBase:
    fp = local_embedder.fingerprint
    store = KnowledgeBase(make_backend(request.param, tmp_path, fp.dim), local_embedder, fp)
    yield store
    store.backend.close()


@pytest.fixture
def filled(kb: KnowledgeBase, make_settings) -> KnowledgeBase:
    indexer = build_indexer(make_settings(), kb)
    for (scope, name), text in DOCS.items():
        assert indexer.index_bytes(text.encode(), "markdown", name, scope).status == "indexed"
    return kb


def test_vector_scores_are_cosine_similarities(filled: KnowledgeBase) -> None:
    same = filled.retrieve("Every employee gets 25 vacation days a year.", ["global"], mode="vector")
    assert same.documents[0].meta["source"] == "vacation.md" and same.best_similarity > 0.8
    unrelated = filled.retrieve("quantum chromodynamics of gluon plasma", ["global"], mode="vector")
    assert unrelated.best_similarity < 0.3  # refused under answer.min_similarity on every store alike


def test_hybrid_results_say_why_they_were_found(filled: KnowledgeBase) -> None:
    found = filled.search("how many vacation days", ["global"], mode="hybrid")
    why = found[0].meta["_why"]
    assert found[0].meta["source"] == "vacation.md"
    assert why["keyword_rank"] == 1 and why["vector_rank"] == 1 and why["fused_score"] > 0
    assert "vacation" in why["matched_terms"] and -1 <= why["vector_score"] <= 1


def test_deleting_a_source_in_one_scope_leaves_the_other(filled: KnowledgeBase) -> None:
    assert filled.delete_source("vacation.md", ["global"]) == 1
    assert filled.chunk_metadata(source_filter("vacation.md", ["global"])) == []
    assert len(filled.chunk_metadata(source_filter("vacation.md", ["slack:T1"]))) == 1
    found = {(d.meta["scope"], d.meta["source"]) for d in filled.search("vacation days", ["global", "slack:T1"])}
    assert ("slack:T1", "vacation.md") in found and ("global", "vacation.md") not in found
    assert filled.delete_source("vacation.md") == 1 and filled.delete_source("vacation.md") == 0


def test_a_changed_document_replaces_its_chunks(filled: KnowledgeBase, make_settings) -> None:
    indexer = build_indexer(make_settings(), filled)
    assert indexer.index_bytes(b"# Parking\n\nBikes go in the yard; the garage is closed.", "markdown", "parking.md",
                               "global").status == "indexed"
    texts = [d.content for d in filled.search("garage", ["global"], mode="keyword")]
    assert texts and all("closed" in t for t in texts if "garage" in t) and not any("40 spaces" in t for t in texts)


def test_reindex_keeps_every_chunk_searchable(filled: KnowledgeBase) -> None:
    before = filled.count_chunks()
    assert filled.reindex() == before == filled.count_chunks()
    assert filled.recorded_fingerprint() == filled.fingerprint
    assert filled.search("garage spaces", ["global"], mode="vector")[0].meta["source"] == "parking.md"
