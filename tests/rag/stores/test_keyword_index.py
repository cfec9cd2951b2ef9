"""The in-memory BM25 index answers keyword queries as LanceDB's own full-text search does: same
rows, same scores, same scopes, and it follows writes."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np
import pytest
from haystack.dataclasses import Document

from bot.rag.stores.keyword_index import STOP_WORDS, Analyzer, KeywordIndex, stop_words_for
from bot.rag.stores.lancedb import LanceDBDocumentStore
from tests.support.paths import REPO

ROOT = REPO
QUERIES = [
    "how many days of holiday do I get",
    "Who approves expenses and receipts?",
    "running the bot without any keys",
    "having passwords rotated",  # "having" is a stop word once stemmed ("have"), "passwords" stems to "password"
    "café résumé naïve",  # accents fold
    "snake_case_name",  # underscores split tokens, as LanceDB's tokenizer splits them
    "the of and to",  # only stop words: nothing matches
    "'; DROP TABLE chunks; --",
    "x" * 60 + " upload",  # a token over 40 characters is dropped, the rest still counts
    "",
]


def _corpus() -> list[Document]:
    """Real prose (the sample handbook, split into paragraphs) in three scopes,
    some rows without vectors, and the edge cases the queries above aim at."""
    rng = random.Random(3)
    paragraphs = []
    for name in ("knowledge/handbook/time-off.md", "knowledge/handbook/faq.txt", "knowledge/handbook/expenses.html"):
        text = (ROOT / name).read_text(encoding="utf-8")
        paragraphs += [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40]
    paragraphs += ["Un café et un résumé, naïve question", "use snake case name for variables",
                   "x" * 60 + " upload limits", "Passwords are rotated every 90 days; having one rotated is fine"]
    docs = []
    for i, text in enumerate(paragraphs):
        vector = [rng.uniform(-1, 1) for _ in range(8)] if i % 5 else None
        docs.append(Document(id=f"p{i}", content=text, meta={"scope": f"s{i % 3}"}, embedding=vector))
    return docs


@pytest.fixture
def stores(tmp_path: Path) -> tuple[LanceDBDocumentStore, LanceDBDocumentStore]:
    memory = LanceDBDocumentStore(tmp_path / "db", embedding_dim=8)
    memory.write_documents(_corpus())
    memory.optimize()
    lancedb_only = LanceDBDocumentStore(tmp_path / "db", embedding_dim=8, cache_rows=0)
    return memory, lancedb_only


def _ranked(docs: list[Document]) -> list[tuple[str, float]]:
    return [(d.id, d.score) for d in docs]


def _assert_same(got: list[Document], want: list[Document]) -> None:
    assert len(got) == len(want)
    for (got_id, got_score), (want_id, want_score) in zip(_ranked(got), _ranked(want), strict=True):
        assert math.isclose(got_score, want_score, rel_tol=1e-4), (got_id, want_id)
        tied = sum(math.isclose(want_score, s, rel_tol=1e-4) for _, s in _ranked(want)) > 1
        assert tied or got_id == want_id  # LanceDB returns equal scores in no fixed order


@pytest.mark.parametrize("scopes", [None, ["s0"], ["s1", "s2"], ["nowhere"]])
def test_same_rows_and_scores_as_lancedb(stores, scopes) -> None:
    memory, lancedb_only = stores
    assert memory.build_keyword_index()
    filters = None if scopes is None else {"field": "meta.scope", "operator": "in", "value": scopes}
    matched = 0
    for query in QUERIES:
        got = memory.bm25_retrieval(query, filters=filters, top_k=8)
        want = lancedb_only.bm25_retrieval(query, filters=filters, top_k=8)
        _assert_same(got, want)
        matched += bool(got)
        assert all(scopes is None or d.meta["scope"] in scopes for d in got)
        assert all(d.content for d in got)
    assert matched >= (0 if scopes == ["nowhere"] else 4)


def test_hybrid_keyword_leg_comes_from_memory_and_matches(stores) -> None:
    memory, lancedb_only = stores
    assert memory.build_keyword_index()
    query = [0.5] * 8
    for words in QUERIES[:4]:
        got = memory.hybrid_candidates(words, query, {"field": "meta.scope", "operator": "in", "value": ["s0", "s1"]},
                                       10)
        assert got is not None
        want = lancedb_only.bm25_retrieval(words, {"field": "meta.scope", "operator": "in", "value": ["s0", "s1"]}, 10)
        assert [round(score, 3) for _, score in got.keyword] == [round(d.score, 3) for d in want]
        fetched = got.fetch([doc_id for doc_id, _ in got.keyword])
        assert set(fetched) == {doc_id for doc_id, _ in got.keyword}


def _wait_for_keyword_index(store: LanceDBDocumentStore) -> bool:
    deadline = time.monotonic() + 30
    while not store.keyword_from_memory and time.monotonic() < deadline:
        time.sleep(0.05)
    return store.keyword_from_memory


def test_built_in_the_background_on_the_second_query_and_rebuilt_after_a_write(stores) -> None:
    memory, lancedb_only = stores
    first = memory.bm25_retrieval("holiday days", top_k=5)
    time.sleep(0.3)
    assert not memory.keyword_from_memory  # one query: LanceDB answers, nothing is built
    memory.bm25_retrieval("holiday days", top_k=5)
    assert _wait_for_keyword_index(memory)
    _assert_same(memory.bm25_retrieval("holiday days", top_k=5), first)

    memory.write_documents([Document(id="fresh", content="zeppelin hangar rules", meta={"scope": "s0"})])
    assert [d.id for d in memory.bm25_retrieval("zeppelin", top_k=5)] == ["fresh"]  # the new version, at once
    assert _wait_for_keyword_index(memory)  # rebuilt for the new version after that one query, not two
    assert [d.id for d in memory.bm25_retrieval("zeppelin", top_k=5)] == ["fresh"]
    memory.delete_documents(["fresh"])
    assert memory.bm25_retrieval("zeppelin", top_k=5) == []
    assert lancedb_only.bm25_retrieval("zeppelin", top_k=5) == []


def test_a_warmed_store_rebuilds_its_index_after_a_write_on_the_first_query(stores) -> None:
    memory, _ = stores
    assert memory.build_keyword_index()  # what `kbot run` does at start (KnowledgeBase.warm_up)
    memory.write_documents([Document(id="fresh", content="zeppelin hangar rules", meta={"scope": "s0"})])
    assert [d.id for d in memory.bm25_retrieval("zeppelin", top_k=5)] == ["fresh"]
    assert _wait_for_keyword_index(memory)
    assert [d.id for d in memory.bm25_retrieval("zeppelin hangar", top_k=5)] == ["fresh"]


def test_a_one_shot_query_after_a_write_builds_nothing(stores) -> None:
    memory, _ = stores
    memory.bm25_retrieval("holiday days", top_k=5)
    memory.write_documents([Document(id="fresh", content="zeppelin hangar rules", meta={"scope": "s0"})])
    memory.bm25_retrieval("zeppelin", top_k=5)
    time.sleep(0.3)
    assert not memory.keyword_from_memory  # one query per version: never asked for twice


def test_tables_over_the_limit_keep_lancedb_search(tmp_path: Path) -> None:
    store = LanceDBDocumentStore(tmp_path / "db", embedding_dim=8, keyword_rows=3)
    store.write_documents(_corpus())
    assert not store.build_keyword_index()
    assert store.bm25_retrieval("holiday", top_k=3)
    assert not store.keyword_from_memory


def test_the_stop_words_are_those_of_the_installed_lancedb(tmp_path: Path) -> None:
    """Each NLTK stop word indexed by LanceDB and searched for: LanceDB drops exactly the words our
    analyzer drops. (A word LanceDB keeps counts towards a passage's length and moves every score:
    0.41 stopped dropping negations and contraction fragments, and the scores moved by 0.5-1.5 %.)"""
    words = sorted(STOP_WORDS)
    store = LanceDBDocumentStore(tmp_path / "db", embedding_dim=8, cache_rows=0)
    store.write_documents([Document(id=f"w{i}", content=f"{word} filler", meta={"scope": "s"})
                           for i, word in enumerate(words)])
    kept_by_lancedb = {word for i, word in enumerate(words)
                       if any(d.id == f"w{i}" for d in store.bm25_retrieval(word, top_k=3))}
    analyzer = Analyzer()
    assert kept_by_lancedb == {word for word in words if analyzer.terms(word)}


def test_stop_words_follow_the_lancedb_release() -> None:
    assert stop_words_for("0.40.0") == STOP_WORDS
    for newer in ("0.41.0", "0.41.3", "1.2"):
        assert {"not", "no", "s", "don"}.isdisjoint(stop_words_for(newer))
        assert {"the", "have", "re", "having"} & stop_words_for(newer) == {"the", "have", "re", "having"}
    assert Analyzer(stop_words_for("0.40.0")).terms("it's not here") == []
    assert Analyzer(stop_words_for("0.41.0")).terms("it's not here") == ["s", "not"]


def test_analyzer_and_scoring_match_lancedb_conventions() -> None:
    analyzer = Analyzer(STOP_WORDS)
    assert analyzer.terms("Having RUNNING files, the café's snake_case") == ["run", "file", "cafe", "snake", "case"]
    index = KeywordIndex.build(["run run run", "run walk", "", None], analyzer)
    ranked = index.search("running", None, 10)
    assert [row for row, _ in ranked] == [0, 1]  # more occurrences in a document of the same length score higher
    assert ranked[0][1] > ranked[1][1] > 0
    assert index.search("walk", None, 10)[0][0] == 1
    assert index.search("walk", allowed=np.array([True, False, True, True]), top_k=10) == []
    assert index.search("nothing here", None, 10) == [] and index.search("run", None, 0) == []
