"""Re-ingest writes nothing, a change replaces old chunks, delete removes a source, reindex switches."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rag.knowledge_base import EmbedderMismatch, KnowledgeBase
from bot.rag.stores.lancedb_backend import LanceDBBackend


def _ids(kb: KnowledgeBase) -> set[str]:
    return {chunk_id for chunk_id, _ in kb.chunk_metadata()}


def _table_version(kb: KnowledgeBase) -> int:
    return kb.backend.document_store.open_table().version


def test_unchanged_document_writes_nothing(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    doc = tmp_path / "policy.md"
    doc.write_text("# Policy\n\n" + "Remote work is allowed three days a week. " * 60)
    indexer = indexer_for(keyword_kb)
    first = indexer.index_path(doc, "policy.md")
    ids, version = _ids(keyword_kb), _table_version(keyword_kb)
    second = indexer.index_path(doc, "policy.md")
    assert first.status == "indexed" and first.chunks > 1
    assert second.status == "unchanged" and second.chunks == 0
    assert _ids(keyword_kb) == ids
    assert _table_version(keyword_kb) == version  # not a single write reached the table


def test_changed_document_replaces_all_its_chunks(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    doc = tmp_path / "policy.md"
    doc.write_text("# Policy\n\n" + "The old rule says pineapples are banned. " * 80)
    other = tmp_path / "other.md"
    other.write_text("Unrelated note about parking spaces.")
    indexer = indexer_for(keyword_kb)
    indexer.index_path(doc, "policy.md")
    indexer.index_path(other, "other.md")
    old_ids = {i for i, m in keyword_kb.chunk_metadata() if m["source"] == "policy.md"}
    doc.write_text("# Policy\n\nThe new rule welcomes mangoes.")
    outcome = indexer.index_path(doc, "policy.md")
    assert outcome.status == "indexed" and outcome.chunks == 1
    remaining = [(i, m) for i, m in keyword_kb.chunk_metadata() if m["source"] == "policy.md"]
    assert len(remaining) == 1 and not (old_ids & {i for i, _ in remaining})
    assert keyword_kb.search("pineapples", ["global"]) == []
    assert keyword_kb.search("mangoes", ["global"])[0].meta["source"] == "policy.md"
    assert keyword_kb.search("parking", ["global"])[0].meta["source"] == "other.md"


def test_same_source_in_two_scopes_is_two_documents(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    doc = tmp_path / "notes.md"
    doc.write_text("Quarterly goals are due in March.")
    indexer = indexer_for(keyword_kb)
    assert indexer.index_path(doc, "notes.md", scope="slack:T1").status == "indexed"
    assert indexer.index_path(doc, "notes.md", scope="slack:T2").status == "indexed"
    assert keyword_kb.delete_source("notes.md", ["slack:T1"]) == 1
    assert keyword_kb.search("quarterly goals", ["slack:T1"]) == []
    assert len(keyword_kb.search("quarterly goals", ["slack:T2"])) == 1


def test_delete_removes_every_chunk_of_a_source(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    doc = tmp_path / "long.txt"
    doc.write_text("kiwi " * 1000)
    keep = tmp_path / "keep.txt"
    keep.write_text("kiwi and lime")
    indexer = indexer_for(keyword_kb)
    assert indexer.index_path(doc, "long.txt").chunks > 5
    indexer.index_path(keep, "keep.txt")
    removed = keyword_kb.delete_source("long.txt")
    assert removed > 5
    assert {m["source"] for _, m in keyword_kb.chunk_metadata()} == {"keep.txt"}
    assert keyword_kb.delete_source("long.txt") == 0


def test_other_embedder_is_refused_until_reindex(
    tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for, local_embedder
) -> None:
    doc = tmp_path / "faq.md"
    doc.write_text("# FAQ\n\nThe wifi password is printed on the fridge.")
    indexer_for(keyword_kb).index_path(doc, "faq.md")
    store_path = keyword_kb.backend.path

    fp = local_embedder.fingerprint
    switched = KnowledgeBase(LanceDBBackend(store_path, fp.dim), local_embedder, fp)
    with pytest.raises(EmbedderMismatch) as refused:
        switched.search("wifi", ["global"])
    assert "none/none (0 dims)" in str(refused.value) and "run `kbot reindex`" in str(refused.value)
    with pytest.raises(EmbedderMismatch):
        indexer_for(switched).index_path(doc, "faq-copy.md")

    assert switched.reindex() == 1
    hits = switched.search("where can I find the wireless network key", ["global"], mode="vector")
    assert hits and hits[0].meta["source"] == "faq.md"
    assert switched.recorded_fingerprint() == fp
    with pytest.raises(EmbedderMismatch):
        keyword_kb.search("wifi", ["global"])
