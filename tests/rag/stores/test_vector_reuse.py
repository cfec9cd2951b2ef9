"""An edited document re-embeds only what changed; nothing else is carried over. On LanceDB always,
on Weaviate when WEAVIATE_URL is set (tests/rag/stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from haystack.dataclasses import Document

from bot.rag.embedding.haystack_embedders import HaystackEmbedder
from bot.rag.knowledge_base import KnowledgeBase
from tests.support.stores import BACKENDS, make_backend


class RecordingEmbedder:
    """The real local embedder, noting each chunk it is asked to embed (and failing when told to)."""

    def __init__(self, inner: HaystackEmbedder) -> None:
        self.inner = inner
        self.fingerprint = inner.fingerprint
        self.embedded: list[str] = []
        self.fail = False

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        if self.fail:
            raise RuntimeError("embeddings server unreachable")
        self.embedded.extend(d.content or "" for d in documents)
        return self.inner.embed_documents(documents)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture
def recorder(local_embedder: HaystackEmbedder) -> RecordingEmbedder:
    return RecordingEmbedder(local_embedder)


@pytest.fixture(params=BACKENDS)
def kb(request, tmp_path: Path, recorder: RecordingEmbedder) -> Iterator[KnowledgeBase]:
    store = KnowledgeBase(make_backend(request.param, tmp_path, recorder.fingerprint.dim), recorder,
                          recorder.fingerprint)
    yield store
    store.backend.close()


def _handbook(sections: dict[str, str]) -> str:
    return "# Handbook\n\n" + "\n\n".join(f"## {title}\n\n{body}" for title, body in sections.items())


def _sections() -> dict[str, str]:
    return {f"Part {i}": " ".join(f"Rule {j} of part {i} covers case {i * 100 + j}." for j in range(45))
            for i in range(6)}


def _vectors(kb: KnowledgeBase) -> dict[str, list[float]]:
    return {d.content or "": d.embedding for d in kb.backend.document_store.filter_documents()
            if d.embedding is not None}


def test_an_edit_embeds_only_the_changed_section(tmp_path: Path, kb: KnowledgeBase, recorder: RecordingEmbedder,
                                                 indexer_for) -> None:
    doc = tmp_path / "handbook.md"
    sections = _sections()
    doc.write_text(_handbook(sections))
    indexer = indexer_for(kb)
    first = indexer.index_path(doc, "handbook.md")
    assert first.status == "indexed" and first.chunks >= 12 and first.reused == 0
    assert len(recorder.embedded) == first.chunks
    old = _vectors(kb)

    recorder.embedded.clear()
    sections["Part 2"] = "Parking permits are issued by the front desk on Mondays."
    doc.write_text(_handbook(sections))
    second = indexer.index_path(doc, "handbook.md")

    assert second.status == "indexed"
    assert recorder.embedded == ["Parking permits are issued by the front desk on Mondays."]
    assert second.reused == second.chunks - 1
    stored = kb.backend.document_store.filter_documents()
    assert len(stored) == second.chunks and all(d.meta["embedded"] is True for d in stored)
    kept = [d for d in stored if d.content in old]
    assert len(kept) == second.reused and all(d.embedding == old[d.content] for d in kept)
    assert kb.search("where do I get a parking permit", ["global"], mode="vector", top_k=1)[0].content.startswith(
        "Parking permits")
    assert not [d for d in stored if "case 205" in (d.content or "")]  # the replaced text is gone


def test_chunks_left_unembedded_are_embedded_again(tmp_path: Path, kb: KnowledgeBase, recorder: RecordingEmbedder,
                                                   indexer_for) -> None:
    doc = tmp_path / "handbook.md"
    doc.write_text(_handbook(_sections()))
    indexer = indexer_for(kb)
    recorder.fail = True
    failed = indexer.index_path(doc, "handbook.md")
    assert failed.status == "failed" and "embedding failed" in (failed.reason or "")

    recorder.fail = False
    again = indexer.index_path(doc, "handbook.md")
    assert again.status == "indexed" and again.reused == 0
    assert len(recorder.embedded) == again.chunks
    assert len(_vectors(kb)) == again.chunks


def test_another_scope_never_lends_its_vectors(tmp_path: Path, kb: KnowledgeBase, recorder: RecordingEmbedder,
                                               indexer_for) -> None:
    doc = tmp_path / "handbook.md"
    doc.write_text(_handbook(_sections()))
    indexer = indexer_for(kb)
    one = indexer.index_path(doc, "handbook.md", scope="slack:T1")
    two = indexer.index_path(doc, "handbook.md", scope="slack:T2")
    assert one.status == two.status == "indexed"
    assert two.reused == 0 and len(recorder.embedded) == one.chunks + two.chunks


def test_repeated_passages_are_embedded_once(tmp_path: Path, kb: KnowledgeBase, recorder: RecordingEmbedder,
                                             indexer_for) -> None:
    notice = "This document is confidential. Do not forward it outside the company."
    doc = tmp_path / "letters.md"
    doc.write_text("# Letters\n\n" + "\n\n".join(f"## Item {i}\n\nDear team, item {i} is ready for review.\n\n"
                                                 f"## Notice\n\n{notice}" for i in range(5)))
    outcome = indexer_for(kb).index_path(doc, "letters.md")
    assert outcome.status == "indexed"
    stored = kb.backend.document_store.filter_documents()
    notices = [d for d in stored if d.content == notice]
    assert len(notices) == 5 and recorder.embedded.count(notice) == 1
    assert all(d.embedding is not None and d.embedding == notices[0].embedding for d in notices)
    assert len(recorder.embedded) == len(stored) - 4
