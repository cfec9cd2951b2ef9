"""Many small writes (a `kbot ingest` of a folder of notes, a bulk upload) are folded into the
indexes as they go, not only at the end: each unfolded commit leaves a fragment every lookup scans."""

from __future__ import annotations

from pathlib import Path

from haystack.dataclasses import Document

from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.stores.lancedb import LanceDBDocumentStore
from bot.rag.stores.lancedb_table import FOLD_EVERY_COMMITS


def _note(number: int) -> Document:
    return Document(id=f"note-{number}", content=f"Note {number} mentions the word zebra{number}.",
                    meta={"scope": "global", "source": f"note-{number}.md"})


def test_every_few_commits_the_new_rows_are_folded_in(tmp_path: Path) -> None:
    store = LanceDBDocumentStore(tmp_path / "lancedb", fold_every_commits=4)
    for number in range(3):
        store.write_documents([_note(number)])
    assert store.unindexed_rows() == 2  # the first write created the indexes; two commits wait
    store.write_documents([_note(3)])
    assert store.unindexed_rows() == 0
    assert store.count_documents() == 4
    assert [d.id for d in store.bm25_retrieval("zebra2", top_k=1)] == ["note-2"]


def test_deletes_count_as_commits(tmp_path: Path) -> None:
    store = LanceDBDocumentStore(tmp_path / "lancedb", fold_every_commits=3)
    store.write_documents([_note(0)])
    store.write_documents([_note(1)])
    assert store.unindexed_rows() == 1
    store.delete_documents(["note-0"])
    assert store.unindexed_rows() == 0
    assert [d.id for d in store.filter_documents()] == ["note-1"]


def test_zero_turns_folding_off(tmp_path: Path) -> None:
    store = LanceDBDocumentStore(tmp_path / "lancedb", fold_every_commits=0)
    for number in range(5):
        store.write_documents([_note(number)])
    assert store.unindexed_rows() == 4


def test_ingesting_many_files_folds_with_the_default(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    """The knowledge base's own store folds with its default: a new file is one commit or more (its
    text, then its vectors, then its old version's removal), so this folder is folded on the way."""
    indexer = indexer_for(keyword_kb)
    folder = tmp_path / "notes"
    folder.mkdir()
    for number in range(FOLD_EVERY_COMMITS):
        note = folder / f"note-{number}.md"
        note.write_text(f"# Note {number}\n\nThe code word of this note is walrus{number}.\n")
        assert indexer.index_path(note, note.name).status == "indexed"
    store = keyword_kb.backend.document_store
    assert store.count_documents() == FOLD_EVERY_COMMITS
    assert store.unindexed_rows() < FOLD_EVERY_COMMITS // 2
    assert keyword_kb.search("walrus7", ["global"])[0].meta["source"] == "note-7.md"
