"""After a write, the in-memory copy of the table reloads beside the queries: the question that finds
the change is answered at once from the newest version by LanceDB, and no write is ever missed or a
deleted chunk shown, however the reload and further writes interleave. The store's background work
is collected here and run when the test says, so each interleaving is shown, not raced."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from haystack.dataclasses import Document

from bot.rag.stores.lancedb import LanceDBDocumentStore

SCOPE = {"field": "meta.scope", "operator": "in", "value": ["s0"]}


class Pending:
    """A `background` that holds the work until `run_all`."""

    def __init__(self) -> None:
        self.work: list[tuple[str, Callable[[], None]]] = []

    def __call__(self, work: Callable[[], None], name: str) -> None:
        self.work.append((name, work))

    def names(self) -> list[str]:
        return [name for name, _ in self.work]

    def run_all(self) -> None:
        while self.work:
            _, work = self.work.pop(0)
            work()


def _doc(doc_id: str, text: str, axis: int, scope: str = "s0") -> Document:
    vector = [0.0] * 8
    vector[axis] = 1.0
    return Document(id=doc_id, content=text, meta={"scope": scope}, embedding=vector)


def _vector(axis: int) -> list[float]:
    return [1.0 if i == axis else 0.0 for i in range(8)]


@pytest.fixture
def pending() -> Pending:
    return Pending()


@pytest.fixture
def store(tmp_path: Path, pending: Pending) -> LanceDBDocumentStore:
    store = LanceDBDocumentStore(tmp_path / "db", embedding_dim=8, background=pending)
    store.write_documents([_doc("vacation", "vacation days carry over", 0),
                           _doc("parking", "parking spaces by the door", 1),
                           _doc("secret", "zeppelin plans of another team", 2, scope="s1")])
    assert [d.id for d in store.bm25_retrieval("vacation", SCOPE)] == ["vacation"]
    assert store.copy_in_memory and pending.work == []  # the first copy loads in the query, as before
    return store


def test_the_question_after_a_write_is_answered_from_the_newest_version_while_the_copy_reloads(
        store, pending) -> None:
    store.write_documents([_doc("zeppelin", "zeppelin hangar rules", 3)])
    assert [d.id for d in store.bm25_retrieval("zeppelin", SCOPE)] == ["zeppelin"]
    assert [d.id for d in store.embedding_retrieval(_vector(3), SCOPE, top_k=1)] == ["zeppelin"]
    assert not store.copy_in_memory and pending.names() == ["kbot-chunk-cache"]
    assert store.hybrid_candidates("zeppelin", _vector(3), SCOPE, 5) is None  # LanceDB's turn, scoped as ever

    pending.run_all()
    assert store.copy_in_memory
    assert [d.id for d in store.hybrid_retrieval("zeppelin", _vector(3), SCOPE, top_k=1)] == ["zeppelin"]
    assert store.hybrid_candidates("zeppelin", _vector(3), SCOPE, 5) is not None  # from memory again
    assert pending.names() == ["kbot-bm25"]  # that was the new version's second keyword query


def test_a_write_during_the_reload_is_not_missed(store, pending) -> None:
    store.write_documents([_doc("zeppelin", "zeppelin hangar rules", 3)])
    store.bm25_retrieval("zeppelin", SCOPE)  # finds the change: the reload is queued, not run
    store.delete_documents(["vacation"])
    assert store.bm25_retrieval("vacation", SCOPE) == []  # deleted: gone at once
    pending.run_all()  # installs the copy of the version before the delete
    assert store.bm25_retrieval("vacation", SCOPE) == []  # which is never served: the version is read again
    assert not store.copy_in_memory and pending.names() == ["kbot-chunk-cache"]
    pending.run_all()
    assert store.copy_in_memory
    assert "vacation" not in {d.id for d in store.embedding_retrieval(_vector(0), SCOPE, top_k=3)}
    assert {d.id for d in store.embedding_retrieval(_vector(0), SCOPE, top_k=3)} == {"parking", "zeppelin"}


def test_a_reload_of_a_table_recreated_meanwhile_is_dropped(store, pending) -> None:
    store.write_documents([_doc("zeppelin", "zeppelin hangar rules", 3)])
    store.bm25_retrieval("zeppelin", SCOPE)
    store.delete_all_documents(recreate_index=True)
    pending.run_all()
    assert not store.copy_in_memory
    assert store.bm25_retrieval("zeppelin", SCOPE) == []
    assert store.count_documents() == 0


def test_a_process_that_kept_a_bm25_index_rebuilds_it_with_the_copy(store, pending) -> None:
    assert store.build_keyword_index() and store.keyword_from_memory
    store.write_documents([_doc("zeppelin", "zeppelin hangar rules", 3)])
    store.bm25_retrieval("zeppelin", SCOPE)
    pending.run_all()  # the copy, then its BM25 index, without a second question
    assert store.keyword_from_memory
    assert [d.id for d in store.bm25_retrieval("zeppelin hangar", SCOPE)] == ["zeppelin"]


def test_without_a_thread_for_the_reload_the_next_question_loads_the_copy_itself(tmp_path: Path) -> None:
    def no_threads(work: Callable[[], None], name: str) -> None:
        raise RuntimeError("can't start new thread")

    store = LanceDBDocumentStore(tmp_path / "db", embedding_dim=8, background=no_threads)
    store.write_documents([_doc("vacation", "vacation days carry over", 0)])
    assert [d.id for d in store.bm25_retrieval("vacation", SCOPE)] == ["vacation"]
    store.write_documents([_doc("zeppelin", "zeppelin hangar rules", 3)])
    assert [d.id for d in store.bm25_retrieval("zeppelin", SCOPE)] == ["zeppelin"]  # answered all the same
    assert not store.copy_in_memory
    assert [d.id for d in store.embedding_retrieval(_vector(3), SCOPE, top_k=1)] == ["zeppelin"]
    assert store.copy_in_memory  # that question loaded the new version's copy, as before background reloads
